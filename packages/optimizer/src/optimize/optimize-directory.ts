import path from 'node:path';
import { applyPlan, isLeftover } from '../plan/apply-plan.js';
import { NotSitePackagesError } from '../shared/errors.js';
import { LIMITS, metadataLimit, readBounded } from '../shared/limits.js';
import { isMetadataFile, testImports } from '../distributions/metadata.js';
import { ownerOfPath, readDistributions } from '../distributions/distributions.js';
import { planOptimization, type Plan } from '../plan/plan.js';
import type { OptimizeReport } from '../report/report.js';
import { checkTarget, userSitePackages } from '../plan/target-guard.js';
import { indexTree, isWithin, testPackageCandidates, type TreeIndex } from '../tree/tree-index.js';
import { keptServices, type Profile } from '../profile/profile.js';
import { detectLayout, joinPath, parentOf, parseBytecodeName, type Layout, type TreeEntry } from '../tree/tree.js';
import { walkDirectory } from '../tree/walk-directory.js';

/** Options of {@link optimizeDirectory}. */
export interface OptimizeDirectoryOptions {
  /** Compute and report, change nothing. */
  dryRun?: boolean;
  /** The site-packages directory relative to `dir`, when it cannot be detected. */
  sitePackagesPrefix?: string;
  /**
   * Also work on a system directory: the system root, a Python installation prefix (`/usr`, `/usr/local`), a home
   * directory. Without it such a `dir` is refused ({@link SystemDirectoryError}); a virtual environment, a
   * site-packages directory or an image layer's root never needs it.
   */
  allowSystem?: boolean;
}

interface Loaded {
  /** The real path of the input. */
  root: string;
  index: TreeIndex;
  layout: Layout;
  content: Map<string, Buffer>;
  /** Metadata files with other names (hard links): a rewrite splits them. */
  linked: Set<string>;
  /** New files of rewrites an interrupted run left (not part of the tree: removed first). */
  leftovers: string[];
}

function readMetadata(root: string, list: readonly TreeEntry[], layout: Layout, profile: Profile | undefined) {
  const wanted = new Set(profile ? keptServices(profile) : []);
  const content = new Map<string, Buffer>();
  const linked = new Set<string>();
  // A few dozen small files: synchronous reads cost less than the promises around them.
  for (const e of list) {
    if (e.type !== 'file' || !isWithin(e.path, layout.sitePackages) || !isMetadataFile(e.path, wanted)) continue;
    const file = readBounded(path.join(root, e.path), e.path, metadataLimit(e.path));
    content.set(e.path, file.content);
    if (file.nlink > 1) linked.add(e.path);
  }
  return { content, linked };
}

async function loadTree(
  dir: string,
  profile: Profile | undefined,
  opts: Pick<OptimizeDirectoryOptions, 'sitePackagesPrefix' | 'allowSystem'>,
): Promise<Loaded> {
  const target = checkTarget(dir, opts.allowSystem);
  const all = walkDirectory(target.root);
  const leftovers = all.filter((e) => e.type === 'file' && isLeftover(e.path)).map((e) => e.path);
  const list = leftovers.length === 0 ? all : all.filter((e) => !leftovers.includes(e.path));
  const index = indexTree(list);
  const pythonTags = list.flatMap((e) =>
    e.path.endsWith('.pyc') ? [parseBytecodeName(path.posix.basename(e.path))?.tag ?? ''] : [],
  );
  const layout = detectLayout(dir, index.dirs, (p) => index.entries.has(p), {
    ...(opts.sitePackagesPrefix !== undefined ? { sitePackagesPrefix: opts.sitePackagesPrefix } : {}),
    pythonTags: pythonTags.filter((t) => t !== ''),
  });
  if (target.kind === 'layer' && !opts.allowSystem && userSitePackages(layout.sitePackages)) {
    const found = `its site-packages ${layout.sitePackages} is a user's own (~/.local)`;
    throw new NotSitePackagesError(dir, `${found}: point at that directory itself, or pass --allow-system`);
  }
  const { content, linked } = readMetadata(target.root, list, layout, profile);
  return { root: target.root, index, layout, content, linked, leftovers };
}

/** Test modules imported by the kept sources of the packages that hold a test-package candidate. */
function scanTestImports(root: string, index: TreeIndex, layout: Layout): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const candidates = testPackageCandidates(index, layout);
  if (candidates.length === 0) return out;
  const sp = layout.sitePackages;
  const tops = new Set(candidates.map((c) => joinPath(sp, c.slice(sp === '' ? 0 : sp.length + 1).split('/')[0] ?? '')));
  for (const e of index.entries.values()) {
    if (e.type !== 'file' || !e.path.endsWith('.py') || ![...tops].some((t) => isWithin(e.path, t))) continue;
    const text = readBounded(path.join(root, e.path), e.path, LIMITS.sourceBytes).content.toString('utf8');
    if (!text.includes('test')) continue;
    const pkg = parentOf(e.path)
      .slice(sp === '' ? 0 : sp.length + 1)
      .replaceAll('/', '.');
    const names = testImports(text, pkg);
    if (names.length > 0) out.set(e.path, names);
  }
  return out;
}

async function planLoaded(dir: string, profile: Profile, opts: OptimizeDirectoryOptions) {
  const loaded = await loadTree(dir, profile, opts);
  const { root, index, layout, content } = loaded;
  const imports = profile.strip.tests ? scanTestImports(root, index, layout) : new Map<string, string[]>();
  const plan = planOptimization({
    inputName: dir,
    index,
    layout,
    content,
    testImports: imports,
    profile,
    dryRun: opts.dryRun ?? false,
  });
  plan.report.hardLinksSplit = [...plan.rewrites.keys()].filter((p) => loaded.linked.has(p)).sort();
  for (const p of loaded.leftovers) plan.report.warnings.push(`removed ${p}, a new file an interrupted run left`);
  return { plan, loaded };
}

/**
 * Compute the transform of a directory (site-packages, venv root, `pip install --target` dir or an image layer's root)
 * without touching it.
 * @throws {NotSitePackagesError} when `dir` holds no site-packages
 * @throws {SystemDirectoryError} when `dir` is a system directory and `allowSystem` is not set
 * @throws {TreeAccessError} / {UnsupportedNameError} when a directory cannot be read or a name is not UTF-8
 * @throws {SizeLimitError} / {MetadataError} when a metadata file is too large or broken
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export async function planDirectory(dir: string, profile: Profile, opts: OptimizeDirectoryOptions = {}): Promise<Plan> {
  return (await planLoaded(dir, profile, opts)).plan;
}

/**
 * Apply a profile to a directory in place: plan, check, then apply. The whole plan is computed and every directory it
 * changes checked writable before the first change, so a bad profile, input or permission changes nothing. Rewrites go
 * to a new file renamed over the old one (the other names of a hard link keep their content: `hardLinksSplit`);
 * nothing is written or removed through a symlink or outside `dir`. Removals are ordered so that running again after
 * a failure finishes the job (the removed distributions' dist-info directories last).
 * @throws {NotSitePackagesError} when `dir` holds no site-packages
 * @throws {SystemDirectoryError} when `dir` is a system directory and `allowSystem` is not set
 * @throws {TreeAccessError} / {UnsupportedNameError} when a directory cannot be read or changed, or a name is not UTF-8
 * @throws {SizeLimitError} / {MetadataError} when a metadata file is too large or broken
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 * @throws {ApplyError} when a change fails part-way (run it again to finish)
 */
export async function optimizeDirectory(
  dir: string,
  profile: Profile,
  opts: OptimizeDirectoryOptions = {},
): Promise<OptimizeReport> {
  const { plan, loaded } = await planLoaded(dir, profile, opts);
  if (!opts.dryRun) await applyPlan(loaded.root, plan, undefined, loaded.leftovers);
  return plan.report;
}

/** A distribution as found in a tree. */
export interface InventoryDistribution {
  name: string;
  version: string;
  distInfo: string;
  topLevel: string[];
  /** RECORD paths resolved inside the tree (relative to the input root). */
  record: string[];
  bytes: number;
  files: number;
}

/** Everything the optimizer knows about a tree before deciding anything. */
export interface Inventory {
  root: string;
  layout: Layout;
  /** Every entry, with the dist-info that owns it (`(unowned)` if none). */
  entries: (TreeEntry & { distribution: string })[];
  distributions: InventoryDistribution[];
  /** `__pycache__` bytecode: interpreter tag and the source it was compiled from (`sourceExists`). */
  bytecode: { path: string; tag: string; source: string; sourceExists: boolean }[];
  /** botocore/data service directories. */
  awsServices: string[];
  totals: { bytes: number; files: number };
}

/**
 * Read a site-packages tree (directory, venv root or `pip install --target` dir).
 * @throws {NotSitePackagesError} when `dir` holds no site-packages
 */
export async function readInventory(
  dir: string,
  opts: Pick<OptimizeDirectoryOptions, 'sitePackagesPrefix' | 'allowSystem'> = {},
): Promise<Inventory> {
  const { index, layout, content } = await loadTree(dir, undefined, opts);
  return inventoryOf(dir, index, layout, content);
}

/** Build an inventory from an indexed tree and its metadata contents. */
export function inventoryOf(
  root: string,
  index: TreeIndex,
  layout: Layout,
  content: ReadonlyMap<string, Buffer>,
): Inventory {
  const sp = layout.sitePackages;
  const { dists, ownerByPath, topOwners } = readDistributions(index, layout, content);
  const byKey = new Map<string, InventoryDistribution>(
    dists.map((d) => [
      d.key,
      {
        name: d.name,
        version: d.version,
        distInfo: d.key,
        topLevel: d.topLevel,
        record: d.resolved.filter((p): p is string => p !== undefined),
        bytes: 0,
        files: 0,
      },
    ]),
  );
  const entries: Inventory['entries'] = [];
  const bytecode: Inventory['bytecode'] = [];
  const totals = { bytes: 0, files: 0 };
  for (const e of index.entries.values()) {
    const distribution = ownerOfPath(e.path, sp, ownerByPath, topOwners);
    entries.push({ ...e, distribution });
    if (e.type === 'directory') continue;
    totals.bytes += e.size;
    totals.files++;
    const d = byKey.get(distribution);
    if (d) {
      d.bytes += e.size;
      d.files++;
    }
    const dirName = parentOf(e.path);
    const parsed =
      path.posix.basename(dirName) === '__pycache__' ? parseBytecodeName(path.posix.basename(e.path)) : undefined;
    if (parsed) {
      const source = joinPath(parentOf(dirName), `${parsed.module}.py`);
      bytecode.push({ path: e.path, tag: parsed.tag, source, sourceExists: index.entries.has(source) });
    }
  }
  const botoData = joinPath(sp, 'botocore/data');
  const awsServices = (index.children.get(botoData) ?? [])
    .filter((p) => index.dirs.has(p))
    .map((p) => path.posix.basename(p))
    .sort();
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  bytecode.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, layout, entries, distributions: [...byKey.values()], bytecode, awsServices, totals };
}

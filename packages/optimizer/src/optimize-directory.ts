import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NotSitePackagesError } from './errors.js';
import { isMetadataFile, testImports } from './metadata.js';
import { ownerOfPath, readDistributions } from './distributions.js';
import { planOptimization, type Plan } from './plan.js';
import type { OptimizeReport } from './report.js';
import { indexTree, isWithin, testPackageCandidates, type TreeIndex } from './tree-index.js';
import { keptServices, type Profile } from './profile.js';
import { detectLayout, joinPath, parentOf, parseBytecodeName, type Layout, type TreeEntry } from './tree.js';

/** Options of {@link optimizeDirectory}. */
export interface OptimizeDirectoryOptions {
  /** Compute and report, change nothing. */
  dryRun?: boolean;
  /** The site-packages directory relative to `dir`, when it cannot be detected. */
  sitePackagesPrefix?: string;
}

/** Run `fn` over `items` with at most `limit` promises in flight. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * List every entry below `root` (not following symlinks, in no particular order), with regular-file sizes.
 * Synchronous on purpose: for a few thousand files it is 2-3x faster than one promise per lstat, and it blocks
 * only for tens of milliseconds.
 */
export async function walkDirectory(root: string): Promise<TreeEntry[]> {
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch (err) {
    throw new NotSitePackagesError(root, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!rootStat.isDirectory()) throw new NotSitePackagesError(root, 'it is not a directory');
  const entries: TreeEntry[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop() as string;
    const abs = rel === '' ? root : path.join(root, rel);
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const p = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        entries.push({ path: p, type: 'directory', size: 0 });
        stack.push(p);
      } else if (d.isFile()) {
        entries.push({ path: p, type: 'file', size: lstatSync(path.join(abs, d.name)).size });
      } else {
        entries.push({ path: p, type: d.isSymbolicLink() ? 'symlink' : 'other', size: 0 });
      }
    }
  }
  return entries;
}

interface Loaded {
  index: TreeIndex;
  layout: Layout;
  content: Map<string, Buffer>;
}

async function loadTree(dir: string, profile: Profile | undefined, sitePackagesPrefix?: string): Promise<Loaded> {
  const list = await walkDirectory(dir);
  const index = indexTree(list);
  const pythonTags = list.flatMap((e) =>
    e.path.endsWith('.pyc') ? [parseBytecodeName(path.posix.basename(e.path))?.tag ?? ''] : [],
  );
  const layout = detectLayout(dir, index.dirs, (p) => index.entries.has(p), {
    ...(sitePackagesPrefix !== undefined ? { sitePackagesPrefix } : {}),
    pythonTags: pythonTags.filter((t) => t !== ''),
  });
  const wanted = new Set(profile ? keptServices(profile) : []);
  const content = new Map<string, Buffer>();
  const toRead = list.filter(
    (e) => e.type === 'file' && isWithin(e.path, layout.sitePackages) && isMetadataFile(e.path, wanted),
  );
  // A few dozen small files: synchronous reads cost less than the promises around them.
  for (const e of toRead) content.set(e.path, readFileSync(path.join(dir, e.path)));
  return { index, layout, content };
}

/** Test modules imported by the kept sources of the packages that hold a test-package candidate. */
async function scanTestImports(dir: string, index: TreeIndex, layout: Layout): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const candidates = testPackageCandidates(index, layout);
  if (candidates.length === 0) return out;
  const sp = layout.sitePackages;
  const tops = new Set(candidates.map((c) => joinPath(sp, c.slice(sp === '' ? 0 : sp.length + 1).split('/')[0] ?? '')));
  const sources = [...index.entries.values()].filter(
    (e) => e.type === 'file' && e.path.endsWith('.py') && [...tops].some((t) => isWithin(e.path, t)),
  );
  await forEachLimit(sources, 16, async (e) => {
    const text = await readFile(path.join(dir, e.path), 'utf8');
    if (!text.includes('test')) return;
    const pkg = parentOf(e.path)
      .slice(sp === '' ? 0 : sp.length + 1)
      .replaceAll('/', '.');
    const names = testImports(text, pkg);
    if (names.length > 0) out.set(e.path, names);
  });
  return out;
}

/**
 * Compute the transform of a directory (site-packages, venv root or `pip install --target` dir) without touching it.
 * @throws {NotSitePackagesError} when `dir` holds no site-packages
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export async function planDirectory(dir: string, profile: Profile, opts: OptimizeDirectoryOptions = {}): Promise<Plan> {
  const { index, layout, content } = await loadTree(dir, profile, opts.sitePackagesPrefix);
  const imports = profile.strip.tests ? await scanTestImports(dir, index, layout) : new Map<string, string[]>();
  return planOptimization({
    inputName: dir,
    index,
    layout,
    content,
    testImports: imports,
    profile,
    dryRun: opts.dryRun ?? false,
  });
}

/**
 * Apply a profile to a directory in place. The plan is computed completely first, so a bad profile or input
 * changes nothing. Only the listed removals and rewrites touch the tree.
 * @throws {NotSitePackagesError} when `dir` holds no site-packages
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export async function optimizeDirectory(
  dir: string,
  profile: Profile,
  opts: OptimizeDirectoryOptions = {},
): Promise<OptimizeReport> {
  const plan = await planDirectory(dir, profile, opts);
  if (!opts.dryRun) await applyPlan(dir, plan);
  return plan.report;
}

/** All removed files of one directory, or one directory to rmdir. */
type Task = { files: string[] } | { dir: string };

/**
 * The order of removal: file tasks per directory (parallel unlinks in one directory would wait on its lock), largest
 * first, and directory tasks that become ready as soon as the last removed entry inside them is gone.
 */
class RemovalSchedule {
  readonly queue: Task[];
  /** Directories whose removed content is gone: they go first, so rmdirs overlap the remaining unlinks. */
  readonly ready: Task[] = [];
  private readonly remaining = new Map<string, number>();
  private next = 0;

  constructor(plan: Plan) {
    const groups = new Map<string, string[]>();
    for (const [p] of plan.removed) {
      const parent = parentOf(p);
      if (plan.removed.has(parent)) this.remaining.set(parent, (this.remaining.get(parent) ?? 0) + 1);
      if (plan.dirs.has(p)) continue;
      const g = groups.get(parent);
      if (g) g.push(p);
      else groups.set(parent, [p]);
    }
    this.queue = [...groups.values()].sort((a, b) => b.length - a.length).map((files) => ({ files }));
    for (const [p] of plan.removed) if (plan.dirs.has(p) && !this.remaining.has(p)) this.ready.push({ dir: p });
  }

  /** The next task to start, or undefined when none is ready. */
  take(): Task | undefined {
    return this.ready.pop() ?? this.queue[this.next++];
  }

  get pending(): boolean {
    return this.ready.length > 0 || this.next < this.queue.length;
  }

  /** A removed entry is gone: its directory becomes ready when it was the last one. */
  gone(p: string): void {
    const parent = parentOf(p);
    const left = this.remaining.get(parent);
    if (left === undefined) return;
    if (left > 1) this.remaining.set(parent, left - 1);
    else {
      this.remaining.delete(parent);
      this.ready.push({ dir: parent });
    }
  }
}

/** Run the schedule's tasks, at most `limit` at once, until all are done; rejects on the first failure. */
function runSchedule(schedule: RemovalSchedule, limit: number, run: (task: Task) => Promise<void>): Promise<void> {
  let active = 0;
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const pump = (): void => {
      while (!failed && active < limit) {
        const task = schedule.take();
        if (!task) break;
        active++;
        run(task).then(
          () => {
            active--;
            pump();
          },
          (err: unknown) => {
            failed = true;
            reject(err as Error);
          },
        );
      }
      if (!failed && active === 0 && !schedule.pending) resolve();
    };
    pump();
  });
}

/** Carry out a plan on `dir`: rewrite files, unlink removed files, then remove directories deepest first. */
export async function applyPlan(dir: string, plan: Plan): Promise<void> {
  await forEachLimit([...plan.rewrites], 8, async ([p, rw]) => {
    await writeFile(path.join(dir, p), rw.content);
  });
  const schedule = new RemovalSchedule(plan);
  await runSchedule(schedule, 32, async (task) => {
    if ('dir' in task) {
      await rmdir(path.join(dir, task.dir));
      schedule.gone(task.dir);
      return;
    }
    for (const p of task.files) {
      await unlink(path.join(dir, p));
      schedule.gone(p);
    }
  });
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
export async function readInventory(dir: string, opts: { sitePackagesPrefix?: string } = {}): Promise<Inventory> {
  const { index, layout, content } = await loadTree(dir, undefined, opts.sitePackagesPrefix);
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

import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { TarHeader } from '../archive/tar-header.js';
import { SizeLimitError } from '../shared/errors.js';
import { fixedLinkPieces, linkFixes, type LinkFix } from '../archive/hard-links.js';
import { LIMITS, metadataLimit } from '../shared/limits.js';
import { safeMembers } from '../archive/member-names.js';
import {
  END_OF_ARCHIVE,
  copyRange,
  encodeMember,
  readAt,
  spoolTar,
  withSpool,
  writePieces,
  type Piece,
} from '../archive/tar-spool.js';
import { isMetadataFile, testImports } from '../distributions/metadata.js';
import { planOptimization, type Plan } from '../plan/plan.js';
import type { DroppedMember } from '../archive/member-names.js';
import type { OptimizeReport } from '../report/report.js';
import { indexTree, isWithin, testPackageCandidates, type TreeIndex } from '../tree/tree-index.js';
import { inventoryOf, type Inventory } from './optimize-directory.js';
import { keptServices, type Profile } from '../profile/profile.js';
import {
  baseName,
  detectLayout,
  parentOf,
  parseBytecodeName,
  type EntryType,
  type Layout,
  type TreeEntry,
} from '../tree/tree.js';

/** Options of {@link optimizeTar}. */
export interface OptimizeTarOptions {
  /** The site-packages directory inside the archive, when it cannot be detected. */
  sitePackagesPrefix?: string;
  /** Compute the report only; nothing is written to `output` (it is still ended). */
  dryRun?: boolean;
  /** Directory for the spool file (default: the OS temp dir); its name is removed as soon as it is open. */
  tmpDir?: string;
  /**
   * Drop members that would land outside the archive's root (absolute names, `..`, paths below a symlink member,
   * symlinks climbing out, hard links to such names) and list them in the report's `droppedMembers`, instead of
   * refusing the archive with {@link UnsafeMemberError}.
   */
  dropUnsafeMembers?: boolean;
}

/** One archive member and where its bytes (extension headers, header, data, padding) lie in the input. */
interface Member {
  header: TarHeader;
  entry: TreeEntry;
  /** First byte of the member: its pax / GNU long-name blocks, or its header. */
  start: number;
  /** One past its last byte (data padded to 512). */
  end: number;
  /** Where its data starts. */
  dataStart: number;
}

function entryType(type: TarHeader['type']): EntryType {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory') return 'directory';
  if (type === 'symlink') return 'symlink';
  return 'other';
}

interface Scanned {
  members: Member[];
  dropped: DroppedMember[];
  index: TreeIndex;
  layout: Layout;
  content: Map<string, Buffer>;
  testImports: Map<string, string[]>;
}

function tarLayout(members: readonly Member[], index: TreeIndex, opts: OptimizeTarOptions): Layout {
  const pythonTags: string[] = [];
  for (const m of members) {
    if (m.entry.path.endsWith('.pyc')) {
      const t = parseBytecodeName(baseName(m.entry.path))?.tag;
      if (t) pythonTags.push(t);
    }
  }
  return detectLayout('the input tar stream', index.dirs, (p) => index.entries.has(p), {
    ...(opts.sitePackagesPrefix !== undefined ? { sitePackagesPrefix: opts.sitePackagesPrefix } : {}),
    pythonTags,
  });
}

/** Test modules imported by the sources of the top-level packages that hold a test-package candidate. */
async function tarTestImports(
  fh: FileHandle,
  files: readonly Member[],
  index: TreeIndex,
  layout: Layout,
): Promise<Map<string, string[]>> {
  const imports = new Map<string, string[]>();
  const candidates = testPackageCandidates(index, layout);
  if (candidates.length === 0) return imports; // test packages are rare: usually nothing is read
  const sp = layout.sitePackages;
  const rel = (p: string): string => p.slice(sp === '' ? 0 : sp.length + 1);
  const tops = new Set(candidates.map((c) => rel(c).split('/')[0] ?? ''));
  for (const m of files) {
    const p = m.entry.path;
    if (!p.endsWith('.py') || !isWithin(p, sp) || !tops.has(rel(p).split('/')[0] ?? '')) continue;
    const source = (await readMember(fh, m, LIMITS.sourceBytes)).toString('utf8');
    if (!source.includes('test')) continue;
    const names = testImports(source, rel(parentOf(p)).replaceAll('/', '.'));
    if (names.length > 0) imports.set(p, names);
  }
  return imports;
}

/** A member's data, refused when it is larger than `limit`. */
async function readMember(fh: FileHandle, m: Member, limit: number): Promise<Buffer> {
  if (m.entry.size > limit) throw new SizeLimitError(m.entry.path, limit, 'read');
  return readAt(fh, m.dataStart, m.entry.size);
}

/** Spool the input and list its members (those with safe names) as tree entries. */
async function spoolMembers(
  input: Readable,
  fh: FileHandle,
  drop: boolean,
): Promise<{ members: Member[]; dropped: DroppedMember[] }> {
  const safe = safeMembers(await spoolTar(input, fh), drop);
  const members = safe.members.map(({ header, start, end, dataStart }, i) => {
    const type = entryType(header.type);
    const path = safe.paths[i] as string;
    return { header, entry: { path, type, size: type === 'file' ? header.size : 0 }, start, end, dataStart };
  });
  return { members, dropped: safe.dropped };
}

async function scanTar(
  input: Readable,
  fh: FileHandle,
  profile: Profile | undefined,
  opts: OptimizeTarOptions,
): Promise<Scanned> {
  const { members, dropped } = await spoolMembers(input, fh, opts.dropUnsafeMembers ?? false);
  const index = indexTree(members.map((m) => m.entry));
  const layout = tarLayout(members, index, opts);
  const wanted = new Set(profile ? keptServices(profile) : []);
  const files = members.filter((m) => m.entry.type === 'file');
  // The few contents the planner needs are read back from the spool.
  const content = new Map<string, Buffer>();
  for (const m of files) {
    if (isWithin(m.entry.path, layout.sitePackages) && isMetadataFile(m.entry.path, wanted)) {
      content.set(m.entry.path, await readMember(fh, m, metadataLimit(m.entry.path)));
    }
  }
  const imports = profile?.strip.tests ? await tarTestImports(fh, files, index, layout) : new Map<string, string[]>();
  return { members, dropped, index, layout, content, testImports: imports };
}

/**
 * Apply a profile to a tar stream of a site-packages tree or virtual environment (e.g. an exported `/opt/venv`),
 * writing the slimmed tar to `output`. Kept members are copied byte for byte (headers with mode, uid/gid,
 * uname/gname, mtime, symlinks, pax records), in their order; rewritten files get a new header from tar-stream.
 * The same input always gives the same bytes. The input is spooled to a temporary file, so memory stays bounded, and
 * nothing is written to `output` before the whole input has been read and planned (on error it is left untouched).
 * Global pax headers (`git archive`) are not carried over. Member names are made safe first: one that would land
 * outside the root refuses the archive ({@link UnsafeMemberError}), or is dropped and reported (`dropUnsafeMembers`).
 * A kept hard link whose target is removed or rewritten becomes a regular file with the target's original data. The
 * spool file's name is removed as soon as it is open, and metadata reads are bounded.
 * @throws {EmptyTarError} when the stream has no entries
 * @throws {InvalidTarError} when it is not a tar
 * @throws {UnsafeMemberError} when a member would land outside the root (unless `dropUnsafeMembers`)
 * @throws {SizeLimitError} / {MetadataError} when a metadata member is too large or broken
 * @throws {NotSitePackagesError} when it holds no site-packages
 * @throws {ProfileError} when a profile service is not in the archive's botocore/data
 */
export async function optimizeTar(
  input: Readable,
  output: Writable,
  profile: Profile,
  opts: OptimizeTarOptions = {},
): Promise<OptimizeReport> {
  return withSpool(opts.tmpDir, async (fh) => {
    const scanned = await scanTar(input, fh, profile, opts);
    const { plan, fixes } = planTar(scanned, profile, opts);
    if (opts.dryRun) {
      output.end();
      return plan.report;
    }
    const pieces: Piece[] = [];
    for (const m of scanned.members) {
      if (plan.removed.has(m.entry.path)) continue;
      const rewrite = plan.rewrites.get(m.entry.path);
      const fix = fixes().get(m.entry.path);
      if (rewrite) pieces.push({ bytes: await encodeMember(m.header, rewrite.content) });
      else if (fix) await fixedLinkPieces(pieces, m, fix);
      else copyRange(pieces, m.start, m.end);
    }
    await writePieces(output, fh, [...pieces, END_OF_ARCHIVE]);
    return plan.report;
  });
}

/**
 * The plan of a spooled archive, and the hard links it breaks: a kept link whose target member is removed or
 * rewritten becomes a regular file with the target's data (the other names of a rewritten file keep their content).
 */
function planTar(scanned: Scanned, profile: Profile, opts: OptimizeTarOptions) {
  let fixes: Map<string, LinkFix<Member>> | undefined;
  const hasLinks = scanned.members.some((m) => m.header.type === 'link');
  const fixesOf = (removed: ReadonlyMap<string, unknown>, rewrites: ReadonlyMap<string, unknown>) =>
    (fixes ??= !hasLinks
      ? new Map()
      : linkFixes(
          scanned.members,
          (p) => !removed.has(p),
          (p) => removed.has(p) || rewrites.has(p),
        ));
  const plan: Plan = planOptimization({
    inputName: 'the input tar stream',
    index: scanned.index,
    layout: scanned.layout,
    content: scanned.content,
    testImports: scanned.testImports,
    profile,
    dryRun: opts.dryRun ?? false,
    ...(hasLinks
      ? {
          keptSize: (p: string, removed: ReadonlyMap<string, unknown>, rewrites: ReadonlyMap<string, unknown>) => {
            const fix = fixesOf(removed, rewrites).get(p);
            return fix && fix.to === undefined ? fix.target.entry.size : undefined;
          },
        }
      : {}),
  });
  plan.report.droppedMembers = scanned.dropped;
  plan.report.hardLinksSplit = [...fixesOf(plan.removed, plan.rewrites).values()]
    .filter((f) => f.to === undefined && plan.rewrites.has(f.target.entry.path))
    .map((f) => f.target.entry.path)
    .sort();
  return { plan, fixes: () => fixesOf(plan.removed, plan.rewrites) };
}

/**
 * Read a tar stream of a site-packages tree or venv into an inventory (spooled to a temporary file, removed after).
 * @throws {EmptyTarError} when the stream has no entries
 * @throws {NotSitePackagesError} when it holds no site-packages
 */
export async function readTarInventory(
  input: Readable,
  opts: { sitePackagesPrefix?: string } = {},
): Promise<Inventory> {
  return withSpool(undefined, async (fh) => {
    const scanned = await scanTar(input, fh, undefined, opts);
    return inventoryOf('the input tar stream', scanned.index, scanned.layout, scanned.content);
  });
}

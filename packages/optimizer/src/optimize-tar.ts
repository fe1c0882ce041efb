import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { TarHeader } from './tar-header.js';
import {
  END_OF_ARCHIVE,
  copyRange,
  encodeMember,
  readAt,
  spoolTar,
  withSpool,
  writePieces,
  type Piece,
} from './tar-spool.js';
import { isMetadataFile, testImports } from './metadata.js';
import { planOptimization } from './plan.js';
import type { OptimizeReport } from './report.js';
import { indexTree, isWithin, testPackageCandidates, type TreeIndex } from './tree-index.js';
import { inventoryOf, type Inventory } from './optimize-directory.js';
import { keptServices, type Profile } from './profile.js';
import {
  baseName,
  detectLayout,
  normalizeMemberName,
  parentOf,
  parseBytecodeName,
  type EntryType,
  type Layout,
  type TreeEntry,
} from './tree.js';

/** Options of {@link optimizeTar}. */
export interface OptimizeTarOptions {
  /** The site-packages directory inside the archive, when it cannot be detected. */
  sitePackagesPrefix?: string;
  /** Compute the report only; nothing is written to `output` (it is still ended). */
  dryRun?: boolean;
  /** Directory for the spool file (default: the OS temp dir). */
  tmpDir?: string;
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
    const source = (await readAt(fh, m.dataStart, m.entry.size)).toString('utf8');
    if (!source.includes('test')) continue;
    const names = testImports(source, rel(parentOf(p)).replaceAll('/', '.'));
    if (names.length > 0) imports.set(p, names);
  }
  return imports;
}

/** Spool the input and list its members as tree entries. */
async function spoolMembers(input: Readable, fh: FileHandle): Promise<Member[]> {
  return (await spoolTar(input, fh)).map(({ header, start, dataStart, end }) => {
    const type = entryType(header.type);
    const entry = { path: normalizeMemberName(header.name), type, size: type === 'file' ? header.size : 0 };
    return { header, entry, start, end, dataStart };
  });
}

async function scanTar(
  input: Readable,
  fh: FileHandle,
  profile: Profile | undefined,
  opts: OptimizeTarOptions,
): Promise<Scanned> {
  const members = await spoolMembers(input, fh);
  const index = indexTree(members.map((m) => m.entry));
  const layout = tarLayout(members, index, opts);
  const wanted = new Set(profile ? keptServices(profile) : []);
  const files = members.filter((m) => m.entry.type === 'file');
  // The few contents the planner needs are read back from the spool.
  const content = new Map<string, Buffer>();
  for (const m of files) {
    if (isWithin(m.entry.path, layout.sitePackages) && isMetadataFile(m.entry.path, wanted)) {
      content.set(m.entry.path, await readAt(fh, m.dataStart, m.entry.size));
    }
  }
  const imports = profile?.strip.tests ? await tarTestImports(fh, files, index, layout) : new Map<string, string[]>();
  return { members, index, layout, content, testImports: imports };
}

/**
 * Apply a profile to a tar stream of a site-packages tree or virtual environment (e.g. an exported `/opt/venv`),
 * writing the slimmed tar to `output`. Kept members are copied byte for byte (headers with mode, uid/gid,
 * uname/gname, mtime, symlinks, pax records), in their order; rewritten files get a new header from tar-stream.
 * The same input always gives the same bytes. The input is spooled to a temporary file, so memory stays bounded, and
 * nothing is written to `output` before the whole input has been read and planned (on error it is left untouched).
 * Global pax headers (`git archive`) are not carried over.
 * @throws {EmptyTarError} when the stream has no entries
 * @throws {InvalidTarError} when it is not a tar
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
    const plan = planOptimization({
      inputName: 'the input tar stream',
      index: scanned.index,
      layout: scanned.layout,
      content: scanned.content,
      testImports: scanned.testImports,
      profile,
      dryRun: opts.dryRun ?? false,
    });
    if (opts.dryRun) {
      output.end();
      return plan.report;
    }
    const pieces: Piece[] = [];
    for (const m of scanned.members) {
      if (plan.removed.has(m.entry.path)) continue;
      const rewrite = plan.rewrites.get(m.entry.path);
      if (rewrite) pieces.push({ bytes: await encodeMember(m.header, rewrite.content) });
      else copyRange(pieces, m.start, m.end);
    }
    await writePieces(output, fh, [...pieces, END_OF_ARCHIVE]);
    return plan.report;
  });
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

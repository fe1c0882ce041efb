import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import type { TarHeader } from './tar-header.js';
import { TarScanner } from './tar-scanner.js';
import { EmptyTarError, InvalidTarError, OptimizerError } from './errors.js';
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

const CHUNK = 1 << 20;
const MAX_IN_FLIGHT = 8;

function entryType(type: TarHeader['type']): EntryType {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory') return 'directory';
  if (type === 'symlink') return 'symlink';
  return 'other';
}

/** Writes the raw input to a temporary file at increasing offsets, a few writes in flight at a time. */
class Spool {
  private written = 0;
  private inFlight: Promise<unknown>[] = [];
  constructor(readonly fh: FileHandle) {}
  async append(chunk: Buffer): Promise<void> {
    this.inFlight.push(this.fh.write(chunk, 0, chunk.length, this.written));
    this.written += chunk.length;
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.drain();
  }
  async drain(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = [];
    await Promise.all(pending);
  }
}

interface Scanned {
  members: Member[];
  index: TreeIndex;
  layout: Layout;
  content: Map<string, Buffer>;
  testImports: Map<string, string[]>;
}

/** Spool the whole input to `fh` and list its members; only headers are looked at while streaming. */
async function spoolMembers(input: Readable, fh: FileHandle): Promise<Member[]> {
  const spool = new Spool(fh);
  const members: Member[] = [];
  const scanner = new TarScanner(({ header, start, dataStart, end }) => {
    const type = entryType(header.type);
    const entry = { path: normalizeMemberName(header.name), type, size: type === 'file' ? header.size : 0 };
    members.push({ header, entry, start, end, dataStart });
  });
  try {
    for await (const data of input) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      await spool.append(chunk);
      scanner.push(chunk);
    }
    scanner.end();
    await spool.drain();
  } catch (err) {
    if (err instanceof OptimizerError) throw err;
    throw new InvalidTarError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (members.length === 0) throw new EmptyTarError();
  return members;
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
  const dir = await mkdtemp(path.join(opts.tmpDir ?? tmpdir(), '4pass-optimizer-'));
  const fh = await open(path.join(dir, 'spool'), 'w+');
  try {
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
    if (!opts.dryRun) {
      const pieces: Piece[] = [];
      for (const m of scanned.members) {
        if (plan.removed.has(m.entry.path)) continue;
        const rewrite = plan.rewrites.get(m.entry.path);
        if (rewrite) pieces.push({ bytes: await encodeMember(m.header, rewrite.content) });
        else {
          const last = pieces[pieces.length - 1];
          // Adjacent kept members become one sequential copy.
          if (last && 'end' in last && last.end === m.start) last.end = m.end;
          else pieces.push({ start: m.start, end: m.end });
        }
      }
      pieces.push({ bytes: Buffer.alloc(1024) }); // end-of-archive marker
      await writePieces(output, fh, pieces);
    } else {
      output.end();
    }
    return plan.report;
  } finally {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function readAt(fh: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  const { bytesRead } = size > 0 ? await fh.read(buf, 0, size, offset) : { bytesRead: 0 };
  if (bytesRead !== size) throw new OptimizerError('internal error: short read from the spool file');
  return buf;
}

type Piece = { start: number; end: number } | { bytes: Buffer };

/** A member with new content, encoded by tar-stream (pax records kept, except a stale `size`). */
async function encodeMember(original: TarHeader, data: Buffer): Promise<Buffer> {
  const { type, pax, ...fields } = original;
  let records = pax;
  if (records) {
    const { size: _size, ...rest } = records;
    records = rest;
  }
  const pack = tar.pack();
  const parts: Buffer[] = [];
  pack.on('data', (b: unknown) => parts.push(b as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  pack.entry({ ...fields, ...(type ? { type } : {}), size: data.length, pax: records }, data);
  pack.finalize();
  await ended;
  const all = Buffer.concat(parts);
  return all.subarray(0, all.length - 1024); // without pack's end-of-archive marker
}

/** Resolve on the first of `events`, removing every listener again (no leak over thousands of waits). */
function first(stream: Writable, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.on(e, done);
  });
}
const drained = (s: Writable): Promise<void> => first(s, ['drain', 'close', 'error']);
const finished = (s: Writable): Promise<void> => first(s, ['finish', 'close', 'error']);

async function writePieces(output: Writable, fh: FileHandle, pieces: Piece[]): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error): void => {
    failed = err;
  };
  output.on('error', onError);
  const write = async (buf: Buffer): Promise<void> => {
    if (failed) throw failed;
    if (!output.write(buf)) await drained(output);
    if (failed) throw failed;
  };
  try {
    // Read the next chunk while the previous one is being written.
    let pending: Promise<Buffer> | undefined;
    const chunks = function* (): Generator<{ start: number; len: number } | Buffer> {
      for (const p of pieces) {
        if ('bytes' in p) yield p.bytes;
        else for (let pos = p.start; pos < p.end; pos += CHUNK) yield { start: pos, len: Math.min(CHUNK, p.end - pos) };
      }
    };
    const read = async (c: { start: number; len: number } | Buffer): Promise<Buffer> => {
      if (Buffer.isBuffer(c)) return c;
      const buf = Buffer.allocUnsafe(c.len);
      const { bytesRead } = await fh.read(buf, 0, c.len, c.start);
      if (bytesRead !== c.len) throw new OptimizerError('internal error: short read from the spool file');
      return buf;
    };
    for (const c of chunks()) {
      const next = read(c);
      if (pending) await write(await pending);
      pending = next;
      next.catch(() => undefined);
    }
    if (pending) await write(await pending);
    output.end();
    if (!output.writableFinished) await finished(output);
    if (failed) throw failed;
  } finally {
    output.off('error', onError);
  }
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
  const dir = await mkdtemp(path.join(tmpdir(), '4pass-optimizer-'));
  const fh = await open(path.join(dir, 'spool'), 'w+');
  try {
    const scanned = await scanTar(input, fh, undefined, opts);
    return inventoryOf('the input tar stream', scanned.index, scanned.layout, scanned.content);
  } finally {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
}

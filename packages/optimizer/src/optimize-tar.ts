import { once } from 'node:events';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';
import { EmptyTarError, InvalidTarError, OptimizerError } from './errors.js';
import { isMetadataFile, testImports } from './metadata.js';
import { indexTree, planOptimization, type OptimizeReport, type TreeIndex } from './plan.js';
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

interface Member {
  header: Header;
  entry: TreeEntry;
  /** Offset of the data in the spool file; -1 when not spooled (certainly removed). */
  offset: number;
}

const SPOOL_BUFFER = 4 << 20;
const CHUNK = 1 << 20;
const WINDOW = 8 << 20;

function entryType(type: Header['type']): EntryType {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory') return 'directory';
  if (type === 'symlink') return 'symlink';
  return 'other';
}

/** Appends entry data to a temporary file in large positional writes, a few in flight at a time. */
class Spool {
  private buf = Buffer.allocUnsafe(SPOOL_BUFFER);
  private used = 0;
  private flushed = 0;
  private inFlight: Promise<unknown>[] = [];
  constructor(readonly fh: FileHandle) {}
  get position(): number {
    return this.flushed + this.used;
  }
  get busy(): boolean {
    return this.inFlight.length >= 4;
  }
  append(chunk: Buffer): void {
    if (this.used + chunk.length > this.buf.length) this.startWrite();
    if (chunk.length > this.buf.length) {
      this.inFlight.push(this.fh.write(Buffer.from(chunk), 0, chunk.length, this.flushed));
      this.flushed += chunk.length;
      return;
    }
    chunk.copy(this.buf, this.used);
    this.used += chunk.length;
  }
  private startWrite(): void {
    if (this.used === 0) return;
    this.inFlight.push(this.fh.write(this.buf, 0, this.used, this.flushed));
    this.flushed += this.used;
    this.used = 0;
    this.buf = Buffer.allocUnsafe(SPOOL_BUFFER);
  }
  /** Wait for the writes in flight (and, with `all`, write what is buffered). */
  async drain(all: boolean): Promise<void> {
    if (all) this.startWrite();
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

/** Paths below `botocore/data/<svc>/` for a service nobody keeps: their bytes need not be spooled. */
function certainlyRemovedMatcher(profile: Profile | undefined, prefix: string | undefined): (p: string) => boolean {
  if (!profile) return () => false;
  const wanted = new Set(keptServices(profile));
  const base =
    prefix !== undefined
      ? (normalizeMemberName(prefix) === '' ? '' : normalizeMemberName(prefix) + '/').replace(
          /[.*+?^${}()|[\]\\]/g,
          '\\$&',
        )
      : '(?:(?:.*/)?lib/python3\\.\\d+/site-packages/)?';
  const re = new RegExp(`^${base}botocore/data/([^/]+)/`);
  return (p) => {
    const m = re.exec(p);
    return m !== null && !wanted.has(m[1] ?? '');
  };
}

async function scanTar(
  input: Readable,
  spool: Spool | undefined,
  profile: Profile | undefined,
  opts: OptimizeTarOptions,
): Promise<Scanned> {
  const wanted = new Set(profile ? keptServices(profile) : []);
  const skip = certainlyRemovedMatcher(profile, opts.sitePackagesPrefix);
  const scanTests = profile?.strip.tests ?? false;
  const extract = tar.extract();
  const members: Member[] = [];
  const content = new Map<string, Buffer>();
  const pySources = new Map<string, string>();
  // Event callbacks, not async iteration: about twice as fast on trees of many small files.
  extract.on('entry', (header, stream, next) => {
    const p = normalizeMemberName(header.name);
    const type = entryType(header.type);
    const size = type === 'file' ? (header.size ?? 0) : 0;
    const spoolIt = spool !== undefined && type === 'file' && !skip(p);
    const capture = type === 'file' && isMetadataFile(p, wanted);
    const scanPy = scanTests && type === 'file' && p.endsWith('.py');
    const offset = spoolIt ? spool.position : -1;
    const parts: Buffer[] = [];
    stream.on('data', (data: unknown) => {
      const chunk = data as Buffer;
      if (spoolIt) spool.append(chunk);
      if (capture || scanPy) parts.push(chunk);
    });
    stream.on('end', () => {
      if (capture) content.set(p, Buffer.concat(parts));
      if (scanPy && parts.length > 0) {
        // Most sources never mention a test module: look for the word before decoding anything.
        const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
        if (buf.includes('test')) pySources.set(p, buf.toString('utf8'));
      }
      members.push({ header, entry: { path: p, type, size }, offset });
      if (spool?.busy) spool.drain(false).then(() => next(), next);
      else next();
    });
  });
  try {
    await pipeline(input, extract);
    await spool?.drain(true);
  } catch (err) {
    if (err instanceof OptimizerError) throw err;
    throw new InvalidTarError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (members.length === 0) throw new EmptyTarError();

  const index = indexTree(members.map((m) => m.entry));
  const pythonTags: string[] = [];
  for (const m of members) {
    if (m.entry.path.endsWith('.pyc')) {
      const t = parseBytecodeName(baseName(m.entry.path))?.tag;
      if (t) pythonTags.push(t);
    }
  }
  const layout = detectLayout('the input tar stream', index.dirs, (p) => index.entries.has(p), {
    ...(opts.sitePackagesPrefix !== undefined ? { sitePackagesPrefix: opts.sitePackagesPrefix } : {}),
    pythonTags,
  });
  const imports = new Map<string, string[]>();
  const sp = layout.sitePackages;
  for (const [p, source] of pySources) {
    if (sp !== '' && !p.startsWith(sp + '/')) continue;
    const pkg = parentOf(p)
      .slice(sp === '' ? 0 : sp.length + 1)
      .replaceAll('/', '.');
    const names = testImports(source, pkg);
    if (names.length > 0) imports.set(p, names);
  }
  return { members, index, layout, content, testImports: imports };
}

/**
 * Apply a profile to a tar stream of a site-packages tree or virtual environment (e.g. an exported `/opt/venv`),
 * writing the slimmed tar to `output`. Entries keep their order, headers (mode, uid/gid, uname/gname, mtime) and
 * symlinks; the same input always gives the same bytes. Entry data is spooled to a temporary file, so memory stays
 * bounded; nothing is written to `output` before the whole input has been read and planned.
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
    const scanned = await scanTar(input, opts.dryRun ? undefined : new Spool(fh), profile, opts);
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
    for (const m of scanned.members) {
      if (m.entry.type === 'file' && m.offset < 0 && !plan.removed.has(m.entry.path)) {
        throw new OptimizerError(`internal error: ${m.entry.path} is kept but was not spooled`);
      }
    }
    const pack = tar.pack();
    const writing = pipeline(pack, output);
    try {
      await writeKept(
        pack,
        fh,
        scanned.members.filter((m) => !plan.removed.has(m.entry.path)),
        plan.rewrites,
      );
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      await writing.catch(() => undefined);
      throw err;
    }
    await writing;
    return plan.report;
  } finally {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pack the kept members in order. Small files are read from the spool ahead of time and entries are handed to the
 * packer without waiting for each, with at most WINDOW bytes outstanding (the output's backpressure bounds it).
 */
async function writeKept(
  pack: tar.Pack,
  fh: FileHandle,
  kept: Member[],
  rewrites: ReadonlyMap<string, { content: Buffer }>,
): Promise<void> {
  const isSmall = (m: Member): boolean =>
    m.entry.type === 'file' && !rewrites.has(m.entry.path) && m.entry.size <= CHUNK * 4;
  const reads = new Map<number, Promise<Buffer>>();
  let ahead = 0;
  let aheadBytes = 0;
  const pending: { done: Promise<void>; bytes: number }[] = [];
  let pendingBytes = 0;
  const settleTo = async (limit: number): Promise<void> => {
    while (pendingBytes > limit || (limit === 0 && pending.length > 0)) {
      const first = pending.shift();
      if (!first) break;
      pendingBytes -= first.bytes;
      await first.done;
    }
  };
  const push = (done: Promise<void>, bytes: number): void => {
    done.catch(() => undefined); // awaited (and rethrown) by settleTo
    pending.push({ done, bytes });
    pendingBytes += bytes;
  };
  for (let i = 0; i < kept.length; i++) {
    while (ahead < kept.length && (ahead <= i || aheadBytes < WINDOW)) {
      const m = kept[ahead] as Member;
      if (isSmall(m)) {
        const read = readAt(fh, m.offset, m.entry.size);
        read.catch(() => undefined);
        reads.set(ahead, read);
        aheadBytes += m.entry.size;
      }
      ahead++;
    }
    const m = kept[i] as Member;
    const rewrite = rewrites.get(m.entry.path);
    if (rewrite) {
      const header: Header = { ...m.header, size: rewrite.content.length };
      if (header.pax && typeof header.pax === 'object') {
        // A pax `size` record would override the new size.
        const { size: _size, ...pax } = header.pax as Record<string, string>;
        header.pax = pax;
      }
      push(addEntry(pack, header, rewrite.content), rewrite.content.length);
    } else if (isSmall(m)) {
      const buf = await (reads.get(i) as Promise<Buffer>);
      reads.delete(i);
      aheadBytes -= m.entry.size;
      push(addEntry(pack, { ...m.header }, buf), buf.length);
    } else if (m.entry.type === 'file') {
      await settleTo(0);
      await copyEntry(pack, { ...m.header }, fh, m.offset, m.entry.size);
    } else {
      push(addEntry(pack, { ...m.header }, undefined), 0);
    }
    await settleTo(WINDOW);
  }
  await settleTo(0);
}

async function readAt(fh: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  if (size > 0) {
    const { bytesRead } = await fh.read(buf, 0, size, offset);
    if (bytesRead !== size) throw new OptimizerError('internal error: short read from the spool file');
  }
  return buf;
}

function addEntry(pack: tar.Pack, header: Header, data: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data) pack.entry(header, data, cb);
    else pack.entry(header, cb);
  });
}

async function copyEntry(pack: tar.Pack, header: Header, fh: FileHandle, offset: number, size: number): Promise<void> {
  let done!: () => void;
  let fail!: (err: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  const sink = pack.entry(header, (err) => (err ? fail(err) : done()));
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; pos < size;) {
    const n = Math.min(CHUNK, size - pos);
    const { bytesRead } = await fh.read(buf, 0, n, offset + pos);
    if (bytesRead !== n) throw new OptimizerError('internal error: short read from the spool file');
    if (!sink.write(Buffer.from(buf.subarray(0, n)))) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
    pos += n;
  }
  (sink as unknown as { end(): void }).end();
  return finished;
}

/**
 * Read a tar stream of a site-packages tree or venv into an inventory (nothing is spooled or written).
 * @throws {EmptyTarError} when the stream has no entries
 * @throws {NotSitePackagesError} when it holds no site-packages
 */
export async function readTarInventory(
  input: Readable,
  opts: { sitePackagesPrefix?: string } = {},
): Promise<Inventory> {
  const scanned = await scanTar(input, undefined, undefined, opts);
  return inventoryOf('the input tar stream', scanned.index, scanned.layout, scanned.content);
}

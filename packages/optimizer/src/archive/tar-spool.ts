import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { EmptyTarError, InvalidTarError, OptimizerError } from '../shared/errors.js';
import type { TarHeader } from './tar-header.js';
import { TarScanner, type ScannedMember } from './tar-scanner.js';

// A tar input is spooled to a temporary file while its headers are scanned; the planner reads back the few contents
// it needs, and the output is assembled from byte ranges of the spool, so memory stays bounded.

const CHUNK = 1 << 20;
const MAX_IN_FLIGHT = 8;

/**
 * Run `fn` with a fresh spool file. Its name is removed as soon as it is open, so nothing is left on disk whatever
 * happens, even when the process is killed: the space is freed when the file is closed.
 */
export async function withSpool<T>(tmpDir: string | undefined, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpDir ?? tmpdir(), '4pass-optimizer-'));
  let fh: FileHandle;
  try {
    fh = await open(path.join(dir, 'spool'), 'w+');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

/** Writes the raw input to a temporary file at increasing offsets, a few writes in flight at a time. */
export class Spool {
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

/**
 * Spool the whole input to `fh` and list its members; only headers are looked at while streaming.
 * @throws {InvalidTarError} when it is not a tar; {EmptyTarError} when it has no members
 */
export async function spoolTar(input: Readable, fh: FileHandle): Promise<ScannedMember[]> {
  const spool = new Spool(fh);
  const members: ScannedMember[] = [];
  const scanner = new TarScanner((m) => members.push(m));
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

/** Exactly `size` bytes of the spool file from `offset`. */
export async function readAt(fh: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  const { bytesRead } = size > 0 ? await fh.read(buf, 0, size, offset) : { bytesRead: 0 };
  if (bytesRead !== size) throw new OptimizerError('internal error: short read from the spool file');
  return buf;
}

/** A byte range of the spool file, or new bytes. */
export type Piece = { start: number; end: number } | { bytes: Buffer };

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Piece = { bytes: Buffer.alloc(1024) };

/** Append a copy of the spool's bytes `[start, end)`; adjacent copies become one sequential read. */
export function copyRange(pieces: Piece[], start: number, end: number): void {
  const last = pieces[pieces.length - 1];
  if (last && 'end' in last && last.end === start) last.end = end;
  else pieces.push({ start, end });
}

/** A member with new content, encoded by tar-stream (pax records kept, except a stale `size`). */
export async function encodeMember(original: TarHeader, data: Buffer): Promise<Buffer> {
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

/**
 * The header blocks of a regular file of `size` bytes whose data is copied from the spool (a hard link made a file):
 * tar-stream encodes the header for no data, then the size field and checksum of its ustar block are set.
 * @throws {OptimizerError} for 8 GiB and more (the octal size field's limit)
 */
export async function encodeFileHeader(original: TarHeader, size: number): Promise<Buffer> {
  if (size >= 8 ** 11)
    throw new OptimizerError(`cannot turn a hard link into a file of ${size} bytes (8 GiB and more)`);
  const { linkpath: _link, ...pax } = original.pax ?? {};
  const header: TarHeader = { ...original, type: 'file', linkname: '', pax: original.pax ? pax : null };
  const blocks = await encodeMember(header, Buffer.alloc(0));
  const ustar = blocks.subarray(blocks.length - 512);
  ustar.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  ustar.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of ustar) sum += b;
  ustar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return blocks;
}

/** The zero bytes that pad `size` bytes of member data to a 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
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

/** Write the pieces to `output` in order (spool ranges read ahead while the previous chunk is written), then end it. */
export async function writePieces(output: Writable, fh: FileHandle, pieces: Piece[]): Promise<void> {
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

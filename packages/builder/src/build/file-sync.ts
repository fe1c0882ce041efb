import { createReadStream } from 'node:fs';
import { walkContext, type ContextEntry, type ContextFilter, type ContextRoot } from '../context/context-tree.js';
import { ContextError } from '../context/context-errors.js';
import { GrpcCode, GrpcStatusError, type GrpcStreamCall, type GrpcStreamHandler } from './serve-grpc.js';
import { decodePacket, encodePacket, PacketType, type WireStat } from './session-wire.js';

/**
 * Our side of BuildKit's FileSync (`moby.filesync.v1.FileSync/DiffCopy`): the engine asks for a local directory by
 * name (`dir-name`: `context`, `dockerfile`) with the patterns of what it needs (`include-patterns`,
 * `exclude-patterns` from .dockerignore, `followpaths`), and we answer with fsutil's protocol
 * (tonistiigi/fsutil send.go): every entry's stat in walk order, then an empty stat; the engine compares them with
 * what it received last time and requests (by index) only files whose metadata changed; each requested file goes as
 * data packets ending with an empty one; the engine's FIN is answered with ours. A warm rebuild therefore moves the
 * stats and the changed files only.
 */

/** What one DiffCopy sent. */
export interface FileSyncTransfer {
  /** The directory's name (`context`, `dockerfile`). */
  dir: string;
  /** Entries stat'ed (sent as metadata). */
  entries: number;
  /** Files the engine asked for, and their bytes. */
  files: number;
  fileBytes: number;
  /** Every message byte we sent, framing included. */
  bytesSent: number;
}

export interface FileSyncOptions {
  /** Directory name → what it holds. */
  dirs: ReadonlyMap<string, ContextRoot>;
  onTransfer?: (transfer: FileSyncTransfer) => void;
}

const CHUNK_BYTES = 64 * 1024;

/** The DiffCopy handler serving `dirs`. */
export function fileSyncHandler(options: FileSyncOptions): GrpcStreamHandler {
  return { stream: (call) => diffCopy(call, options) };
}

async function diffCopy(call: GrpcStreamCall, options: FileSyncOptions): Promise<void> {
  const name = metadataValues(call.metadata, 'dir-name')[0] ?? '';
  const root = options.dirs.get(name);
  if (!root) throw new GrpcStatusError(GrpcCode.notFound, `no access allowed to dir "${name}"`);
  const filter: ContextFilter = {
    includePatterns: [
      ...metadataValues(call.metadata, 'include-patterns'),
      ...metadataValues(call.metadata, 'followpaths'),
    ],
    excludePatterns: metadataValues(call.metadata, 'exclude-patterns'),
  };
  const transfer: FileSyncTransfer = { dir: name, entries: 0, files: 0, fileBytes: 0, bytesSent: 0 };
  const send = async (packet: Parameters<typeof encodePacket>[0]): Promise<void> => {
    const bytes = encodePacket(packet);
    transfer.bytesSent += bytes.length + 5;
    await call.send(bytes);
  };
  const files = new Map<number, ContextEntry>();
  const sending = sendStats(root, filter, files, send, transfer);
  // A walk that fails (an unreadable file) ends the call at once; one that succeeds waits for the engine's FIN.
  const walkFailure = sending.then(() => new Promise<never>(() => undefined));
  try {
    await Promise.race([answerRequests(call, files, send, transfer), walkFailure]);
    await sending;
  } catch (error) {
    await send({ type: PacketType.err, data: Buffer.from(errorText(error)) }).catch(() => undefined);
    throw error instanceof GrpcStatusError ? error : new GrpcStatusError(GrpcCode.internal, errorText(error));
  }
  options.onTransfer?.(transfer);
}

/** Every entry's stat in walk order, then an empty stat; regular files are remembered by index for requests. */
async function sendStats(
  root: ContextRoot,
  filter: ContextFilter,
  files: Map<number, ContextEntry>,
  send: (packet: Parameters<typeof encodePacket>[0]) => Promise<void>,
  transfer: FileSyncTransfer,
): Promise<void> {
  let index = 0;
  for await (const entry of walkContext(root, filter)) {
    if (entry.type === 'file') files.set(index, entry);
    index++;
    await send({ type: PacketType.stat, stat: wireStat(entry) });
  }
  transfer.entries = index;
  await send({ type: PacketType.stat });
}

/** Serves the engine's requests until its FIN (answered with ours). */
async function answerRequests(
  call: GrpcStreamCall,
  files: Map<number, ContextEntry>,
  send: (packet: Parameters<typeof encodePacket>[0]) => Promise<void>,
  transfer: FileSyncTransfer,
): Promise<void> {
  for await (const message of call.messages) {
    const packet = decodePacket(message);
    if (packet.type === PacketType.fin) return send({ type: PacketType.fin });
    if (packet.type === PacketType.err) {
      throw new GrpcStatusError(GrpcCode.cancelled, `the engine stopped the transfer: ${Buffer.from(packet.data)}`);
    }
    if (packet.type !== PacketType.req) continue;
    const entry = files.get(packet.ID);
    if (!entry) throw new GrpcStatusError(GrpcCode.invalidArgument, `invalid file id ${packet.ID}`);
    files.delete(packet.ID);
    transfer.files++;
    transfer.fileBytes += await sendFile(entry, packet.ID, send);
  }
  if (!call.signal.aborted) throw new GrpcStatusError(GrpcCode.cancelled, 'the engine ended the transfer early');
}

async function sendFile(
  entry: ContextEntry,
  id: number,
  send: (packet: Parameters<typeof encodePacket>[0]) => Promise<void>,
): Promise<number> {
  let bytes = 0;
  const chunks: AsyncIterable<Buffer> | Iterable<Buffer> = entry.content
    ? chunksOf(entry.content)
    : createReadStream(entry.source as string, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const data of chunks) {
      bytes += data.length;
      await send({ type: PacketType.data, ID: id, data });
    }
  } catch (error) {
    throw new ContextError(`cannot read build context file ${entry.path}: ${errorText(error)}`, entry.path, {
      cause: error,
    });
  }
  if (bytes !== entry.size) {
    throw new ContextError(
      `build context file ${entry.path} changed while it was being sent (${entry.size} bytes when scanned, ${bytes} sent)`,
      entry.path,
    );
  }
  await send({ type: PacketType.data, ID: id });
  return bytes;
}

function* chunksOf(content: Buffer): Iterable<Buffer> {
  for (let offset = 0; offset < content.length; offset += CHUNK_BYTES) {
    yield content.subarray(offset, offset + CHUNK_BYTES);
  }
}

/** Go's `os.FileMode` bits (fsutil sends `uint32(fi.Mode())`). */
const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, setuid: 2 ** 23, setgid: 2 ** 22, sticky: 2 ** 20 } as const;

/** An entry as fsutil's Stat: Go file mode, owners 0 (like the Docker CLI's reset), nanosecond mtime. */
export function wireStat(entry: ContextEntry): WireStat {
  let mode = entry.mode & 0o777;
  if (entry.mode & 0o4000) mode += GO_MODE.setuid;
  if (entry.mode & 0o2000) mode += GO_MODE.setgid;
  if (entry.mode & 0o1000) mode += GO_MODE.sticky;
  if (entry.type === 'directory') mode += GO_MODE.dir;
  if (entry.type === 'symlink') mode += GO_MODE.symlink;
  return {
    path: entry.path,
    mode,
    uid: 0,
    gid: 0,
    size: entry.size,
    modTime: String(entry.mtimeNs),
    linkname: entry.linkname ?? '',
  };
}

/**
 * A metadata key's values. BuildKit percent-encodes values that are not plain ASCII and says so in `<key>-encoded`
 * (session/filesync encodeOpts).
 */
export function metadataValues(metadata: ReadonlyMap<string, readonly string[]>, key: string): string[] {
  const values = metadata.get(key) ?? [];
  const encoded = ['1', 'true'].includes((metadata.get(`${key}-encoded`)?.[0] ?? '').toLowerCase());
  return values.map((value) => (encoded ? decodeURIComponent(value.replaceAll('+', ' ')) : value));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { normalizeImagePath } from '../paths/normalize-image-path.js';
import type { EntryType, LayerEntry } from './analyze-layers.js';
import { ImageArchiveError } from './inspect-errors.js';
import type { FileCollector } from './layer-file-contents.js';
import type { LayerSizeCache } from './layer-size-cache.js';

/**
 * Reads a docker-save tar (`GET /images/{ref}/get`) in one streaming pass: every layer is listed (entries with path,
 * size, type, mode), measured uncompressed and gzip-compressed, without buffering layer data.
 * Works for the 20.10 layout (`<v1id>/layer.tar`, plain), Docker ≥ 25 (`blobs/sha256/…` + `manifest.json`) and the
 * containerd store (gzip/zstd blobs): layers are found through `manifest.json` and their compression is sniffed.
 */

/** `manifest.json` of a docker-save tar (wire format). */
export interface DockerSaveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** The parts of the image config JSON (the `Config` file of the archive) we use — wire field names. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    Healthcheck?: { Test?: string[] } | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
  };
  rootfs?: { type: string; diff_ids?: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** One layer read from the archive. */
export interface ArchiveLayer {
  /** Name of the layer file inside the archive (`<v1id>/layer.tar`, `blobs/sha256/<hex>`). */
  archivePath: string;
  compression: LayerCompression;
  /** The layer's diffID (`sha256:` of the uncompressed tar), from the image config; computed when `verifyDiffIds`. */
  diffId: string;
  /** Bytes of the uncompressed layer tar. */
  tarBytes: number;
  /** Gzip size of the uncompressed tar (level 6, as the engine pushes), measured here whatever the blob's compression. */
  compressedBytes: number;
  /** True when `compressedBytes` came from the cache. */
  compressedFromCache: boolean;
  entries: LayerEntry[];
}

export interface DockerSaveContents {
  manifest: DockerSaveManifestEntry;
  config: ImageConfigFile;
  /** `sha256:` of the image config's bytes: the image's identity on every engine and store. */
  configDigest: string;
  /** Layers in manifest order (bottom first). */
  layers: ArchiveLayer[];
}

export interface ReadDockerSaveOptions {
  /** Which image of a multi-image archive (matched against RepoTags); default: the first. */
  ref?: string;
  /** Skip gzip for layers whose compressed size is known. */
  cache?: LayerSizeCache;
  /** gzip level used to measure compressed sizes; default 6, like the engine's push (Go's DefaultCompression). */
  gzipLevel?: number;
  /** Hash every layer and check it against the config's diff_ids (costs ~1 s per 150 MB). Default false. */
  verifyDiffIds?: boolean;
  /** Keeps the contents of the files it wants (keyed by each layer's `archivePath`); see `createFileCollector`. */
  files?: FileCollector;
}

const MAX_JSON_BYTES = 32 * 1024 * 1024;
const BLOCK_BYTES = 4 * 1024 * 1024;
const GZIP_FRAMING_BYTES = 18; // 10-byte header + CRC32 + ISIZE
const deflateRaw = promisify(zlib.deflateRaw);

/**
 * Streams the archive once and returns manifest, image config and every layer's listing and sizes.
 * @throws {ImageArchiveError} when the archive has no manifest.json, a listed layer is missing, or a layer is unreadable.
 */
export async function readDockerSave(
  archive: Readable | AsyncIterable<Buffer>,
  options: ReadDockerSaveOptions = {},
): Promise<DockerSaveContents> {
  const { files, layers } = await readArchiveFiles(archive, options);
  const manifest = pickImage(files, options.ref);
  const configText = files.get(manifest.Config);
  if (!configText) throw new ImageArchiveError(`the image config ${manifest.Config} named by manifest.json is missing`);
  const config = parseJson<ImageConfigFile>(configText, manifest.Config);
  const diffIds = config.rootfs?.diff_ids ?? [];
  const ordered = manifest.Layers.map((p, i) => {
    const layer = layers.get(p);
    if (!layer) throw new ImageArchiveError(`layer ${p} named by manifest.json is missing or not a tar`);
    const expected = diffIds[i];
    if (options.verifyDiffIds && expected && layer.diffId !== expected) {
      throw new ImageArchiveError(`layer ${p} has digest ${layer.diffId}, but the image config says ${expected}`);
    }
    const out = { ...layer, diffId: expected ?? layer.diffId };
    if (out.diffId && !out.compressedFromCache) options.cache?.set(out.diffId, out.compressedBytes);
    return out;
  });
  const configDigest = `sha256:${createHash('sha256').update(configText).digest('hex')}`;
  return { manifest, config, configDigest, layers: ordered };
}

/**
 * The image's entry: from `manifest.json` (every `docker save`), or else from the OCI layout's `index.json` through
 * nested indexes to the platform manifest (an archive of the containerd store written by other tools).
 */
function pickImage(files: ReadonlyMap<string, Buffer>, ref: string | undefined): DockerSaveManifestEntry {
  const manifestText = files.get('manifest.json');
  if (!manifestText) {
    const index = files.get('index.json');
    if (index) return ociImage(files, parseJson<OciIndex>(index, 'index.json'));
    throw new ImageArchiveError('the image archive has no manifest.json or index.json (is it a docker-save tar?)');
  }
  const manifests = parseJson<DockerSaveManifestEntry[]>(manifestText, 'manifest.json');
  const manifest =
    (ref ? manifests.find((m) => m.RepoTags?.some((t) => matchesRef(t, ref))) : undefined) ?? manifests[0];
  if (!manifest) throw new ImageArchiveError('manifest.json lists no image');
  return manifest;
}

/** An OCI descriptor (image-spec descriptor.md): what index.json and manifests point at. */
interface OciDescriptor {
  mediaType?: string;
  digest: string;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}
interface OciIndex {
  manifests?: OciDescriptor[];
}
interface OciManifest {
  mediaType?: string;
  config?: OciDescriptor;
  layers?: OciDescriptor[];
  manifests?: OciDescriptor[];
}

const blobPath = (digest: string): string => `blobs/${digest.replace(':', '/')}`;

/** Follows indexes (at most 4 deep) to the first image manifest that is not an attestation, amd64 first. */
function ociImage(files: ReadonlyMap<string, Buffer>, index: OciIndex, depth = 0): DockerSaveManifestEntry {
  if (depth > 4) throw new ImageArchiveError('index.json nests indexes more than 4 deep');
  const images = (index.manifests ?? []).filter(
    (d) => d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && d.platform?.os !== 'unknown',
  );
  const preferred = [...images].sort((a, b) => amd64First(a) - amd64First(b));
  for (const descriptor of preferred) {
    const text = files.get(blobPath(descriptor.digest));
    if (!text) continue;
    const manifest = parseJson<OciManifest>(text, blobPath(descriptor.digest));
    if (manifest.manifests) return ociImage(files, manifest, depth + 1);
    if (!manifest.config) continue;
    const name = descriptor.annotations?.['io.containerd.image.name'];
    return {
      Config: blobPath(manifest.config.digest),
      RepoTags: name ? [name] : null,
      Layers: (manifest.layers ?? []).map((l) => blobPath(l.digest)),
    };
  }
  throw new ImageArchiveError('index.json names no image manifest that the archive holds');
}

const amd64First = (d: OciDescriptor): number => (d.platform?.architecture === 'amd64' ? 0 : 1);

/** One pass over the archive: metadata files kept whole, layers listed and measured, everything else skipped. */
async function readArchiveFiles(
  archive: Readable | AsyncIterable<Buffer>,
  options: ReadDockerSaveOptions,
): Promise<{ files: Map<string, Buffer>; layers: Map<string, ArchiveLayer> }> {
  const extract = tar.extract({ highWaterMark: 1024 * 1024 });
  const files = new Map<string, Buffer>();
  const layers = new Map<string, ArchiveLayer>();
  const feeding = feed(archive, extract);
  feeding.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"

  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      const data = entry as unknown as AsyncIterable<Buffer>;
      const kind = archiveFileKind(entry.header.type, name);
      if (kind === 'layer') {
        const read = await readLayerEntry(data, name, options);
        if (read.kind === 'layer') layers.set(name, read.layer);
        else files.set(name, read.data);
      } else if (kind === 'metadata') {
        files.set(name, await collect(data, MAX_JSON_BYTES, name));
      } else {
        entry.resume();
      }
    }
  } catch (e) {
    const error =
      e instanceof ImageArchiveError
        ? e
        : new ImageArchiveError('the image archive is not a readable tar', { cause: e });
    extract.destroy(error);
    (archive as { destroy?: (e?: Error) => void }).destroy?.(error);
    await feeding.catch(() => undefined);
    throw error;
  }
  await feeding;
  return { files, layers };
}

/** Which files of a docker-save archive we read: layers (or blobs that may be layers), metadata, or neither. */
function archiveFileKind(type: tar.Header['type'], name: string): 'layer' | 'metadata' | 'skip' {
  if (type !== 'file' && type !== 'contiguous-file') return 'skip';
  if (name.endsWith('/layer.tar') || name.endsWith('.tar') || name.endsWith('.tar.gz') || name.startsWith('blobs/')) {
    return 'layer';
  }
  if (name.endsWith('.json') || name === 'repositories' || name === 'oci-layout') return 'metadata';
  return 'skip';
}

function matchesRef(tag: string, ref: string): boolean {
  return tag === ref || tag === `${ref}:latest` || tag.endsWith(`/${ref}`) || tag.endsWith(`/${ref}:latest`);
}

async function feed(archive: Readable | AsyncIterable<Buffer>, extract: tar.Extract): Promise<void> {
  try {
    for await (const chunk of archive) {
      if ((extract as unknown as { destroyed: boolean }).destroyed) return;
      if (!extract.write(chunk as Buffer)) await drained(extract as unknown as NodeJS.EventEmitter);
    }
    extract.end(undefined);
  } catch (e) {
    extract.destroy(e instanceof Error ? e : new Error(String(e)));
    throw new ImageArchiveError('reading the image archive failed', { cause: e });
  }
}

/** Resolves when a writable (node or streamx) drains — or closes or fails, so a dead consumer never hangs the writer. */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

async function collect(
  stream: AsyncIterable<Buffer>,
  limit: number,
  name: string,
  first: Buffer[] = [],
): Promise<Buffer> {
  const chunks = [...first];
  let n = chunks.reduce((a, c) => a + c.length, 0);
  for await (const c of stream) {
    n += c.length;
    if (n > limit) throw new ImageArchiveError(`${name} is larger than ${limit} bytes; not a metadata file`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function parseJson<T>(buf: Buffer, name: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw new ImageArchiveError(`${name} in the image archive is not valid JSON`, { cause: e });
  }
}

type EntryRead = { kind: 'layer'; layer: ArchiveLayer } | { kind: 'blob'; data: Buffer };

function sniff(head: Buffer): LayerCompression | 'blob' | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (head.length < 512) return undefined;
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  if (head.subarray(0, 512).every((b) => b === 0)) return 'none'; // an empty layer: only end-of-archive blocks
  return 'blob';
}

async function readLayerEntry(
  entry: AsyncIterable<Buffer>,
  name: string,
  options: ReadDockerSaveOptions,
): Promise<EntryRead> {
  const iterator = entry[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let kind: ReturnType<typeof sniff>;
  for (;;) {
    kind = sniff(Buffer.concat(head));
    if (kind !== undefined) break;
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator };
  if (kind === undefined) {
    // Shorter than a tar block and not compressed: a tiny metadata blob (or an empty file).
    return { kind: 'blob', data: Buffer.concat(head) };
  }
  if (kind === 'blob') return { kind: 'blob', data: await collect(rest, MAX_JSON_BYTES, name, head) };
  void headBytes;
  return { kind: 'layer', layer: await readLayer(name, kind, head, rest, options) };
}

async function readLayer(
  archivePath: string,
  compression: LayerCompression,
  head: Buffer[],
  rest: AsyncIterable<Buffer>,
  options: ReadDockerSaveOptions,
): Promise<ArchiveLayer> {
  const listing = listTar(options.files && { files: options.files, key: archivePath });
  const hash = options.verifyDiffIds ? createHash('sha256') : undefined;
  let tarBytes = 0;
  const cached = options.cache?.get(archivePath);
  // Measured on the uncompressed tar whatever the blob's own compression, so one image has one figure on every store.
  const gzip = cached === undefined ? new GzipSizeEstimator(options.gzipLevel ?? 6) : undefined;

  const onTar = async (chunk: Buffer): Promise<void> => {
    tarBytes += chunk.length;
    hash?.update(chunk);
    gzip?.push(chunk);
    await listing.write(chunk);
    await gzip?.backpressure();
  };

  try {
    await decompress(compression, archivePath, chunksOf(head, rest), onTar);
    await listing.end();
  } catch (e) {
    listing.destroy();
    if (e instanceof ImageArchiveError) throw e;
    throw new ImageArchiveError(`layer ${archivePath} could not be read`, { cause: e });
  }
  const diffId = hash ? `sha256:${hash.digest('hex')}` : '';
  const compressedFromCache = cached !== undefined;
  const compressedBytes = cached ?? (await (gzip as GzipSizeEstimator).finish());
  if (!compressedFromCache) options.cache?.set(archivePath, compressedBytes);
  return { archivePath, compression, diffId, tarBytes, compressedBytes, compressedFromCache, entries: listing.entries };
}

async function* chunksOf(head: readonly Buffer[], rest: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  yield* head;
  yield* rest;
}

/**
 * A tar parser that lists entries as the layer's bytes are written to it, skipping their data except for the files
 * `capture.files` wants (kept under `capture.key`).
 */
export function listTar(capture?: { files: FileCollector; key: string }): {
  entries: LayerEntry[];
  write: (chunk: Buffer) => Promise<void>;
  end: () => Promise<void>;
  destroy: () => void;
} {
  const entries: LayerEntry[] = [];
  const inner = tar.extract({ highWaterMark: 1024 * 1024 });
  inner.on('entry', (header, stream, next) => {
    const entry = layerEntryOf(header);
    entries.push(entry);
    const sniff = entry.type === 'file' && entry.size >= ELF_MAGIC.length ? magicSniffer(entry) : undefined;
    if (capture?.files.wants(entry)) {
      // A file the caller wants (dist-info, dpkg metadata; an application file to hash): only its bytes are kept.
      const data = sniffed(stream as unknown as AsyncIterable<Buffer>, sniff);
      capture.files.capture(capture.key, entry.path, data).then(
        () => next(),
        (e: unknown) => inner.destroy(e as Error),
      );
      return;
    }
    if (sniff) stream.on('data', (chunk: unknown) => sniff(chunk as Buffer));
    stream.on('end', () => next());
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    inner.on('finish', () => resolve());
    inner.on('close', () => resolve());
    inner.on('error', reject);
  });
  done.catch(() => undefined);
  return {
    entries,
    write: async (chunk) => {
      if (!inner.write(chunk)) await Promise.race([drained(inner as unknown as NodeJS.EventEmitter), done]);
    },
    end: async () => {
      inner.end(undefined);
      await done;
    },
    destroy: () => inner.destroy(),
  };
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Looks at a file's first bytes as they stream past and marks the entry `elf` when they are the ELF magic. */
function magicSniffer(entry: LayerEntry): (chunk: Buffer) => void {
  let head = Buffer.alloc(0);
  return (chunk) => {
    if (head.length >= ELF_MAGIC.length) return;
    head = Buffer.concat([head, chunk.subarray(0, ELF_MAGIC.length - head.length)]);
    if (head.length === ELF_MAGIC.length && head.equals(ELF_MAGIC)) entry.elf = true;
  };
}

async function* sniffed(data: AsyncIterable<Buffer>, sniff?: (chunk: Buffer) => void): AsyncIterable<Buffer> {
  for await (const chunk of data) {
    sniff?.(chunk);
    yield chunk;
  }
}

/** Feeds the layer's (possibly compressed) bytes through to `onTar` as tar bytes; returns the raw byte count. */
export async function decompress(
  compression: LayerCompression,
  archivePath: string,
  raw: AsyncIterable<Buffer>,
  onTar: (chunk: Buffer) => Promise<void>,
): Promise<number> {
  let rawBytes = 0;
  if (compression === 'none') {
    for await (const c of raw) await onTar(c);
    return rawBytes;
  }
  const decompressor = makeDecompressor(compression, archivePath);
  const decompressed = (async () => {
    for await (const c of decompressor as AsyncIterable<Buffer>) await onTar(c);
  })();
  decompressed.catch(() => undefined);
  for await (const c of raw) {
    rawBytes += c.length;
    if (!decompressor.write(c)) await drained(decompressor);
  }
  decompressor.end();
  await decompressed;
  return rawBytes;
}

function makeDecompressor(compression: LayerCompression, archivePath: string): zlib.Gunzip {
  if (compression === 'gzip') return zlib.createGunzip();
  const create = (zlib as unknown as { createZstdDecompress?: () => zlib.Gunzip }).createZstdDecompress;
  if (!create)
    throw new ImageArchiveError(
      `layer ${archivePath} is zstd-compressed; this Node.js has no zstd (needs Node ≥ 22.15)`,
    );
  return create();
}

/** A tar header as a layer entry (path normalised, type reduced). */
export function layerEntryOf(header: tar.Header): LayerEntry {
  const type: EntryType =
    header.type === 'file' || header.type === 'contiguous-file'
      ? 'file'
      : header.type === 'directory'
        ? 'directory'
        : header.type === 'symlink'
          ? 'symlink'
          : header.type === 'link'
            ? 'link'
            : 'other';
  return {
    path: normalizeImagePath(header.name),
    size: type === 'file' ? header.size : 0,
    type,
    mode: header.mode & 0o7777,
    ...(header.linkname && { linkname: header.linkname }),
  };
}

/**
 * Measures the gzip size of a stream without holding it: 4 MiB blocks are deflated independently on libuv's thread pool
 * (level 6 by default), so compression runs on other cores while the archive is parsed. Independent blocks lose up to
 * 32 KiB of history at each boundary: the total is within ~0.5% of a single gzip stream, and well within the spread
 * between zlib and Go's compress/gzip (what the engine pushes).
 */
export class GzipSizeEstimator {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private total = GZIP_FRAMING_BYTES;
  private inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly level = 6,
    private readonly maxInFlight = 3,
  ) {}

  push(chunk: Buffer): void {
    // Exact block boundaries, so the estimate does not depend on how the stream happened to be chunked.
    while (this.pendingBytes + chunk.length >= BLOCK_BYTES) {
      const take = BLOCK_BYTES - this.pendingBytes;
      this.pending.push(chunk.subarray(0, take));
      this.pendingBytes += take;
      this.flush();
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** Resolves when fewer than `maxInFlight` blocks are being compressed. */
  async backpressure(): Promise<void> {
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<number> {
    this.flush(true);
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    return this.total;
  }

  private flush(final = false): void {
    if (this.pendingBytes === 0 && !final) return;
    const block = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const p: Promise<void> = deflateRaw(block, {
      level: this.level,
      finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_FULL_FLUSH,
    })
      .then((out) => {
        this.total += out.length;
      })
      .catch((e: unknown) => {
        this.failure = e;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

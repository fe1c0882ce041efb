import type { EngineImages, ImageInspect } from '../engine/engine.js';
import {
  analyzeLayers,
  measurePaths,
  type Inefficiency,
  type LayerAnalysis,
  type TreeEntry,
} from './analyze-layers.js';
import { readImageContents, type ImageContents } from './image-contents.js';
import { ImageNotFoundError } from './inspect-errors.js';
import { createFileCollector, type FileCollector } from './layer-file-contents.js';
import type { LayerSizeCache } from './layer-size-cache.js';
import type { KnownLayer } from './registry-image.js';
import { readDockerSave, type ArchiveLayer, type ImageConfigFile } from './read-docker-save.js';

/** One layer of an image, with the Dockerfile step that made it. */
export interface LayerFacts {
  index: number;
  diffId: string;
  /** The history entry's `created_by` (e.g. `RUN /bin/sh -c pip install … # buildkit`), or '' when unknown. */
  createdBy: string;
  comment?: string;
  /** Regular-file bytes in the layer (dive's layer size). */
  sizeBytes: number;
  /** Bytes of the uncompressed layer tar. */
  tarBytes: number;
  /** Gzip size, as a registry stores it. */
  compressedBytes: number;
  entryCount: number;
  /** Bytes of this layer's files hidden by later layers. */
  wastedBytes: number;
}

/** A history entry (Dockerfile step); `layer` is the index of the layer it made, or undefined for metadata steps. */
export interface HistoryFacts {
  createdBy: string;
  created?: string;
  comment?: string;
  emptyLayer: boolean;
  layer?: number;
}

/** The image config parts the structure checks read (daemon field names live in engine.ts; these are ours). */
export interface ImageRuntimeConfig {
  user: string;
  /** `NAME=value` strings as in the image. Values are never copied into reports. */
  env: string[];
  labels: Record<string, string>;
  /** The HEALTHCHECK test, or undefined when the image declares none (`["NONE"]` counts as none). */
  healthcheck?: string[];
  cmd?: string[];
  entrypoint?: string[];
}

/** Everything measured about one image (in memory; the report holds a serialisable subset). */
export interface ImageFacts {
  ref: string;
  /**
   * The image's identity: the digest of its config (what `docker images` shows as the id on the classic store). The
   * same on every engine and image store; the containerd store's own id is the manifest's or index's digest.
   */
  imageId: string;
  tags: string[];
  created?: string;
  architecture?: string;
  os?: string;
  /**
   * The layers' content: each layer's file bytes and symlink target lengths, summed (what `docker images` shows on
   * the classic store, counted from the layers we read, so the same on every engine and store).
   */
  sizeBytes: number;
  /** Sum of the layers' gzip sizes (level 6 over each uncompressed tar): what a registry stores. */
  compressedSizeBytes: number;
  layers: LayerFacts[];
  history: HistoryFacts[];
  config: ImageRuntimeConfig;
  /** Regular-file bytes under each requested path of the final tree. */
  paths: Record<string, number>;
  /** The final file tree. */
  tree: ReadonlyMap<string, TreeEntry>;
  waste: {
    totalBytes: number;
    finalBytes: number;
    wastedBytes: number;
    efficiency: number;
    inefficiencies: Inefficiency[];
  };
  /** Time spent inspecting (ms): export + analysis. */
  inspectMs: number;
  /** Python distributions, Debian packages, per-layer biggest paths (unless `contents: false`). */
  contents?: ImageContents;
  /** Each layer's listing and kept metadata files by diffID, so a registry baseline need not download shared layers. */
  knownLayers?: ReadonlyMap<string, KnownLayer>;
}

export interface InspectImageOptions {
  /** Paths whose sizes to measure in the final tree. */
  paths?: readonly string[];
  /** Compressed layer sizes already known (shared base layers are then not compressed again). */
  cache?: LayerSizeCache;
  gzipLevel?: number;
  /** Read distributions and packages (`ImageFacts.contents`); default true. */
  contents?: boolean;
  /**
   * Regular files under these paths are hashed (SHA-256) as their layers stream past, and listed in `contents.files`:
   * the application's own files, for the image's SBOM.
   */
  hashPaths?: readonly string[];
  /** Aborting stops reading the export (the engine's stream is destroyed) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Measures an image through the engine: `inspectImage` for id, tags and size, then one streaming pass over the
 * docker-save export (`exportImage`) for layers, history, compressed sizes, the final file tree, per-path sizes and waste.
 * @throws {ImageNotFoundError} when the image does not exist.
 * @throws {ImageArchiveError} when the export cannot be read.
 * @throws {EngineRequestError} when the engine fails a request.
 */
export async function inspectImage(
  engine: Pick<EngineImages, 'inspectImage' | 'exportImage'>,
  ref: string,
  options: InspectImageOptions = {},
): Promise<ImageFacts> {
  const started = performance.now();
  const inspect = await engine.inspectImage(ref);
  if (!inspect) throw new ImageNotFoundError(ref);
  // Export by id, so a tag moved meanwhile cannot give us another image's layers.
  options.signal?.throwIfAborted();
  const archive = await engine.exportImage(inspect.Id, options.signal);
  const files = options.contents === false ? undefined : createFileCollector({ hashPaths: options.hashPaths ?? [] });
  const stop = (): void => void archive.destroy(options.signal?.reason as Error);
  options.signal?.addEventListener('abort', stop, { once: true });
  const contents = await readDockerSave(archive, {
    ...(options.cache && { cache: options.cache }),
    ...(options.gzipLevel !== undefined && { gzipLevel: options.gzipLevel }),
    ...(files && { files }),
  }).finally(() => options.signal?.removeEventListener('abort', stop));
  options.signal?.throwIfAborted();
  const facts = imageFactsFrom(ref, inspect, contents, contents.layers, options.paths ?? []);
  if (files) Object.assign(facts, withContents(facts, contents.layers, files, options.hashPaths !== undefined));
  facts.inspectMs = performance.now() - started;
  return facts;
}

/**
 * The image's contents from the metadata files `files` kept while the layers were read (keyed by each layer's
 * `archivePath`; with `hashed`, the digests it took listed as `contents.files`), and each layer's listing by diffID.
 */
export function withContents(
  facts: Pick<ImageFacts, 'tree' | 'layers'>,
  archiveLayers: readonly Pick<ArchiveLayer, 'archivePath' | 'entries'>[],
  files: FileCollector,
  hashed = false,
): Required<Pick<ImageFacts, 'contents' | 'knownLayers'>> {
  const keys = archiveLayers.map((l) => l.archivePath);
  const resolved = files.resolve(facts.tree, keys);
  const hashes = hashed ? files.resolveHashes(facts.tree, keys) : undefined;
  const knownLayers = new Map<string, KnownLayer>();
  archiveLayers.forEach((l, i) => {
    const diffId = facts.layers[i]?.diffId;
    if (diffId) knownLayers.set(diffId, { entries: l.entries, files: files.layerFiles(l.archivePath) });
  });
  const contents = readImageContents(facts.tree, (p) => resolved.get(p), { ...(hashes && { hashes }) });
  return { contents, knownLayers };
}

/**
 * Builds `ImageFacts` from the engine's inspect result, the archive's image config and its layers (pure; exported for
 * tests and for callers that read an archive themselves).
 */
export function imageFactsFrom(
  ref: string,
  inspect: ImageInspect | undefined,
  image: { config: ImageConfigFile; configDigest: string },
  archiveLayers: readonly ArchiveLayer[],
  paths: readonly string[],
): ImageFacts {
  const configFile = image.config;
  const analysis = analyzeLayers(archiveLayers);
  const history = mapHistory(configFile.history ?? [], archiveLayers.length);
  const layers = layerFacts(archiveLayers, analysis, history);
  return {
    ref,
    imageId: image.configDigest,
    tags: inspect?.RepoTags ?? [],
    ...((inspect?.Created ?? configFile.created) && { created: inspect?.Created ?? configFile.created }),
    ...((inspect?.Architecture ?? configFile.architecture) && {
      architecture: inspect?.Architecture ?? configFile.architecture,
    }),
    ...((inspect?.Os ?? configFile.os) && { os: inspect?.Os ?? configFile.os }),
    sizeBytes: contentBytes(archiveLayers),
    compressedSizeBytes: layers.reduce((a, l) => a + l.compressedBytes, 0),
    layers,
    history,
    config: runtimeConfig(configFile, inspect),
    paths: measurePaths(analysis.tree, paths),
    tree: analysis.tree,
    waste: {
      totalBytes: analysis.totalBytes,
      finalBytes: analysis.finalBytes,
      wastedBytes: analysis.wastedBytes,
      efficiency: analysis.efficiency,
      inefficiencies: analysis.inefficiencies,
    },
    inspectMs: 0,
  };
}

/** Each layer's file bytes and symlink target lengths (hard links once), summed: Docker's image size, from content. */
export function contentBytes(layers: readonly Pick<ArchiveLayer, 'entries'>[]): number {
  let bytes = 0;
  for (const layer of layers) {
    for (const e of layer.entries) {
      if (e.type === 'file') bytes += e.size;
      else if (e.type === 'symlink') bytes += Buffer.byteLength(e.linkname ?? '');
    }
  }
  return bytes;
}

function layerFacts(
  archiveLayers: readonly ArchiveLayer[],
  analysis: LayerAnalysis,
  history: readonly HistoryFacts[],
): LayerFacts[] {
  const byLayer = new Map(history.filter((h) => h.layer !== undefined).map((h) => [h.layer as number, h]));
  return archiveLayers.map((l, index) => {
    const h = byLayer.get(index);
    const summary = analysis.layers[index];
    return {
      index,
      diffId: l.diffId,
      createdBy: h?.createdBy ?? '',
      ...(h?.comment && { comment: h.comment }),
      sizeBytes: summary?.sizeBytes ?? 0,
      tarBytes: l.tarBytes,
      compressedBytes: l.compressedBytes,
      entryCount: summary?.entryCount ?? 0,
      wastedBytes: summary?.wastedBytes ?? 0,
    };
  });
}

/** The image config's runtime settings, the engine's inspect result winning where it has a value. */
function runtimeConfig(configFile: ImageConfigFile, inspect: ImageInspect | undefined): ImageRuntimeConfig {
  const c = { ...configFile.config, ...pickDefined(inspect?.Config) };
  const test = c.Healthcheck?.Test;
  const healthcheck = test && test.length > 0 && test[0] !== 'NONE' ? test : undefined;
  return {
    user: c.User ?? '',
    env: c.Env ?? [],
    labels: c.Labels ?? {},
    ...(healthcheck && { healthcheck }),
    ...(c.Cmd && { cmd: c.Cmd }),
    ...(c.Entrypoint && { entrypoint: c.Entrypoint }),
  };
}

/**
 * Maps history entries to layers: each entry without `empty_layer` made the next layer, in order. When the history
 * describes fewer layers than there are (squashed or foreign images), the remaining layers get no step.
 */
export function mapHistory(entries: NonNullable<ImageConfigFile['history']>, layerCount: number): HistoryFacts[] {
  let next = 0;
  return entries.map((e) => {
    const emptyLayer = e.empty_layer === true;
    const layer = !emptyLayer && next < layerCount ? next++ : undefined;
    return {
      createdBy: e.created_by ?? '',
      ...(e.created && { created: e.created }),
      ...(e.comment && { comment: e.comment }),
      emptyLayer,
      ...(layer !== undefined && { layer }),
    };
  });
}

function pickDefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

import type { LayerEntry } from './analyze-layers.js';
import { ImageArchiveError } from './inspect-errors.js';
import { createFileCollector, type FileCollector } from './layer-file-contents.js';
import { listLayer } from './list-layer.js';
import type { ImageConfigFile } from './read-docker-save.js';

/**
 * Reads an image straight from a registry, without pulling it into the engine: its manifest (picking the platform
 * from an index), its config, and only the layers it does not share with an image already read. A shared layer's
 * listing and metadata files are taken from `known` (by diffID), so a baseline that differs from the current image
 * in its top layers costs those layers' download only.
 */

/** What reading needs from a registry (the registry HTTP client implements it). */
export interface RegistryImageSource {
  getManifest(
    name: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined>;
  getBlob(name: string, digest: string, maxBytes: number): Promise<Buffer>;
  /** Streams a blob (layers can be large). */
  openBlob(name: string, digest: string): Promise<AsyncIterable<Buffer>>;
}

/** A layer already listed, by diffID: its entries and the metadata files kept from it. */
export interface KnownLayer {
  entries: readonly LayerEntry[];
  files: ReadonlyMap<string, Buffer>;
}

export interface RegistryImageLayer {
  diffId: string;
  /** The blob's size as the registry stores it (compressed). */
  compressedBytes: number;
  entries: LayerEntry[];
  /** True when the blob was downloaded; false when `known` had it. */
  fetched: boolean;
}

export interface RegistryImage {
  /** The manifest digest of the image (the platform's, when the reference named an index). */
  digest: string;
  config: ImageConfigFile;
  /** The config's digest: the image's identity (see `ImageFacts.imageId`). */
  configDigest: string;
  layers: RegistryImageLayer[];
  /** Metadata files kept per layer, keyed by diffID. */
  files: FileCollector;
}

export interface ReadRegistryImageOptions {
  name: string;
  reference: string;
  known?: ReadonlyMap<string, KnownLayer>;
  /** From an index (default linux/amd64). */
  platform?: { os: string; architecture: string };
}

interface WireManifest {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string; size: number; mediaType?: string }[];
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Reads `name:reference`; undefined when the registry has no such manifest. */
export async function readRegistryImage(
  source: RegistryImageSource,
  options: ReadRegistryImageOptions,
): Promise<RegistryImage | undefined> {
  const found = await resolveManifest(source, options);
  if (!found) return undefined;
  const { digest, manifest } = found;
  if (!manifest.config?.digest || !manifest.layers) {
    throw new ImageArchiveError(`${options.name}@${digest} is not an image manifest`);
  }
  const configBlob = await source.getBlob(options.name, manifest.config.digest, MAX_CONFIG_BYTES);
  const config = JSON.parse(configBlob.toString('utf8')) as ImageConfigFile;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageArchiveError(
      `${options.name}@${digest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`,
    );
  }
  const files = createFileCollector();
  const layers: RegistryImageLayer[] = [];
  for (const [i, blob] of manifest.layers.entries()) {
    const diffId = diffIds[i] as string;
    const known = options.known?.get(diffId);
    if (known) for (const [path, content] of known.files) files.add(diffId, path, content);
    const entries = known
      ? [...known.entries]
      : await listLayer(await source.openBlob(options.name, blob.digest), { key: diffId, files });
    layers.push({ diffId, compressedBytes: blob.size, entries, fetched: !known });
  }
  return { digest, config, configDigest: manifest.config.digest, layers, files };
}

async function resolveManifest(
  source: RegistryImageSource,
  options: ReadRegistryImageOptions,
): Promise<{ digest: string; manifest: WireManifest } | undefined> {
  const top = await source.getManifest(options.name, options.reference);
  if (!top) return undefined;
  const manifest = JSON.parse(top.body.toString('utf8')) as WireManifest;
  if (!manifest.manifests) return { digest: top.digest, manifest };
  const want = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const entry = manifest.manifests.find(
    (m) => m.platform?.os === want.os && m.platform.architecture === want.architecture,
  );
  if (!entry) {
    throw new ImageArchiveError(`${options.name}:${options.reference} has no ${want.os}/${want.architecture} image`);
  }
  const platform = await source.getManifest(options.name, entry.digest);
  if (!platform) throw new ImageArchiveError(`${options.name}@${entry.digest} named by the index is missing`);
  return { digest: platform.digest, manifest: JSON.parse(platform.body.toString('utf8')) as WireManifest };
}

import { createHash } from 'node:crypto';
import type { LayerEntry, TreeEntry } from './analyze-layers.js';
import { OS_RELEASE_FILES } from './os-release.js';

/**
 * A hook for the layer reader: while a layer tar streams past, the contents of a few small metadata files (Python
 * `*.dist-info/METADATA|RECORD|top_level.txt`, dpkg's `status`, `status.d/*` and `info/*.list`, packages' copyright
 * files, `os-release`) are kept, and the files under `hashPaths` are hashed (SHA-256; their contents are not kept);
 * every other entry is only listed. After the layers are stacked, `resolve` and `resolveHashes` return what belongs to
 * the versions visible in the final tree (a later layer's copy wins; deleted files are gone).
 */

/** Decides which regular files' contents to keep (path normalised to `/a/b`). */
export type WantFile = (path: string, size: number) => boolean;

export interface FileCollectorOptions {
  wants?: WantFile;
  /** Files larger than this are listed but not kept (default 16 MiB). */
  maxFileBytes?: number;
  /** Over all layers (default 128 MiB); beyond it further files are not kept. */
  maxTotalBytes?: number;
  /** Regular files under these absolute paths are hashed as they stream past (at most `maxHashedFiles`). */
  hashPaths?: readonly string[];
  /** Default 20 000. */
  maxHashedFiles?: number;
}

/** A file's SHA-256 (hex) and size, hashed as its layer streamed past. */
export interface FileDigest {
  sha256: string;
  size: number;
}

/** Collects wanted file contents per layer; stateful across one image's layers. */
export interface FileCollector {
  /** True when the reader should hand this entry's data to `capture` instead of skipping it. */
  wants(entry: LayerEntry): boolean;
  /** Reads the entry's data (the tar entry stream) and keeps it under the layer's name in the archive. */
  capture(layerKey: string, path: string, data: AsyncIterable<Buffer>): Promise<void>;
  /** Keeps contents already known (e.g. of a layer another image shares) without reading them again. */
  add(layerKey: string, path: string, content: Buffer): void;
  /** Contents kept for one layer, by path. */
  layerFiles(layerKey: string): ReadonlyMap<string, Buffer>;
  /** The contents of the final tree's versions of the wanted files; `layerKeys[i]` names layer `i`. */
  resolve(tree: ReadonlyMap<string, TreeEntry>, layerKeys: readonly string[]): Map<string, Buffer>;
  /** The digests of the final tree's versions of the files under `hashPaths`, by path. */
  resolveHashes(tree: ReadonlyMap<string, TreeEntry>, layerKeys: readonly string[]): Map<string, FileDigest>;
}

const DIST_INFO_FILE = /\/[^/]+\.dist-info\/(METADATA|RECORD|top_level\.txt)$/;
const DPKG_FILE = /^\/var\/lib\/dpkg\/(status|status\.d\/[^/]+|info\/[^/]+\.list)$/;
const COPYRIGHT_FILE = /^\/usr\/share\/doc\/[^/]+\/copyright$/;

/** Python distribution metadata, Debian package data and the distribution's name: what `readImageContents` reads. */
export const wantsPackageMetadata: WantFile = (path) =>
  DIST_INFO_FILE.test(path) || DPKG_FILE.test(path) || COPYRIGHT_FILE.test(path) || OS_RELEASE_FILES.includes(path);

const under = (path: string, roots: readonly string[]) =>
  roots.some((r) => r === '/' || path === r || path.startsWith(`${r}/`));

/** Entries of `byLayer` that are the final tree's versions; `layerKeys[i]` names layer `i`. */
function visible<V>(
  byLayer: ReadonlyMap<string, ReadonlyMap<string, V>>,
  tree: ReadonlyMap<string, TreeEntry>,
  layerKeys: readonly string[],
): Map<string, V> {
  const out = new Map<string, V>();
  layerKeys.forEach((key, index) => {
    for (const [path, value] of byLayer.get(key) ?? []) if (tree.get(path)?.layer === index) out.set(path, value);
  });
  return out;
}

/** A collector for one image (its layers in any order). */
export function createFileCollector(options: FileCollectorOptions = {}): FileCollector {
  const wantsFile = options.wants ?? wantsPackageMetadata;
  const maxFile = options.maxFileBytes ?? 16 * 1024 * 1024;
  const maxTotal = options.maxTotalBytes ?? 128 * 1024 * 1024;
  const hashRoots = options.hashPaths ?? [];
  const maxHashed = options.maxHashedFiles ?? 20_000;
  const byLayer = new Map<string, Map<string, Buffer>>();
  const hashes = new Map<string, Map<string, FileDigest>>();
  let total = 0;
  let hashed = 0;
  const keeps = (path: string, size: number) => size <= maxFile && total + size <= maxTotal && wantsFile(path, size);
  const toHash = (path: string) => hashed < maxHashed && under(path, hashRoots);
  const put = <V>(map: Map<string, Map<string, V>>, layerKey: string, path: string, value: V) => {
    let files = map.get(layerKey);
    if (!files) map.set(layerKey, (files = new Map()));
    files.set(path, value);
  };
  return {
    wants: (entry) => entry.type === 'file' && (keeps(entry.path, entry.size) || toHash(entry.path)),
    async capture(layerKey, path, data) {
      const keep = keeps(path, 0);
      const hash = toHash(path) ? createHash('sha256') : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of data) {
        size += chunk.length;
        hash?.update(chunk);
        if (keep) chunks.push(chunk);
      }
      if (hash) {
        hashed++;
        put(hashes, layerKey, path, { sha256: hash.digest('hex'), size });
      }
      if (!keep || size > maxFile || total + size > maxTotal) return;
      total += size;
      put(byLayer, layerKey, path, Buffer.concat(chunks));
    },
    add: (layerKey, path, content) => put(byLayer, layerKey, path, content),
    layerFiles: (layerKey) => byLayer.get(layerKey) ?? new Map(),
    resolve: (tree, layerKeys) => visible(byLayer, tree, layerKeys),
    resolveHashes: (tree, layerKeys) => visible(hashes, tree, layerKeys),
  };
}

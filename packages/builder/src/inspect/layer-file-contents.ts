import type { LayerEntry, TreeEntry } from './analyze-layers.js';

/**
 * A hook for the layer reader: while a layer tar streams past, the contents of a few small metadata files (Python
 * `*.dist-info/METADATA|RECORD|top_level.txt`, dpkg's `status` and `info/*.list`) are kept; every other entry is
 * only listed. Nothing else of a layer is buffered. After the layers are stacked, `resolve` returns the contents of
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
}

const DIST_INFO_FILE = /\/[^/]+\.dist-info\/(METADATA|RECORD|top_level\.txt)$/;
const DPKG_FILE = /^\/var\/lib\/dpkg\/(status|status\.d\/[^/]+|info\/[^/]+\.list)$/;

/** Python distribution metadata and Debian package data: what `readImageContents` reads. */
export const wantsPackageMetadata: WantFile = (path) => DIST_INFO_FILE.test(path) || DPKG_FILE.test(path);

/** A collector for one image (its layers in any order). */
export function createFileCollector(options: FileCollectorOptions = {}): FileCollector {
  const wantsFile = options.wants ?? wantsPackageMetadata;
  const maxFile = options.maxFileBytes ?? 16 * 1024 * 1024;
  const maxTotal = options.maxTotalBytes ?? 128 * 1024 * 1024;
  const byLayer = new Map<string, Map<string, Buffer>>();
  let total = 0;
  const keep = (layerKey: string, path: string, content: Buffer) => {
    let files = byLayer.get(layerKey);
    if (!files) byLayer.set(layerKey, (files = new Map()));
    files.set(path, content);
  };
  return {
    wants: (entry) =>
      entry.type === 'file' &&
      entry.size <= maxFile &&
      total + entry.size <= maxTotal &&
      wantsFile(entry.path, entry.size),
    async capture(layerKey, path, data) {
      const chunks: Buffer[] = [];
      for await (const chunk of data) chunks.push(chunk);
      const content = Buffer.concat(chunks);
      total += content.length;
      keep(layerKey, path, content);
    },
    add: keep,
    layerFiles: (layerKey) => byLayer.get(layerKey) ?? new Map(),
    resolve(tree, layerKeys) {
      const out = new Map<string, Buffer>();
      layerKeys.forEach((key, index) => {
        for (const [path, content] of byLayer.get(key) ?? []) {
          if (tree.get(path)?.layer === index) out.set(path, content);
        }
      });
      return out;
    },
  };
}

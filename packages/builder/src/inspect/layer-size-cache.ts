import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A cache of compressed layer sizes keyed by the layer's name in the archive — content-addressed in every layout
 * (20.10's v1 ids derive from the layer chain; newer layouts use blob digests) — and by diffID. A `Map` will do; the
 * CLI may persist one between runs.
 */
export interface LayerSizeCache {
  get(key: string): number | undefined;
  set(key: string, compressedBytes: number): unknown;
}

/** A cache for one run: shared by its images, gone afterwards. */
export function createMemoryLayerSizeCache(): LayerSizeCache {
  return new Map<string, number>();
}

/**
 * A `LayerSizeCache` kept in a JSON file between runs (e.g. `.image-reports/layer-sizes.json`, or restored by CI's
 * cache). Keys are content-addressed (layer archive names and diffIDs), so a stale file can only miss, never lie.
 */
export interface FileLayerSizeCache extends LayerSizeCache {
  readonly file: string;
  readonly size: number;
  /** Writes the cache (atomically) when anything was added. */
  save(): Promise<void>;
}

const MAX_ENTRIES = 2000;

/** Opens (or starts) a layer size cache file; an unreadable or corrupt file starts empty. */
export async function openLayerSizeCache(file: string): Promise<FileLayerSizeCache> {
  const map = new Map<string, number>();
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (json && typeof json === 'object' && 'layers' in json && json.layers && typeof json.layers === 'object') {
      for (const [k, v] of Object.entries(json.layers as Record<string, unknown>))
        if (typeof v === 'number' && v >= 0) map.set(k, v);
    }
  } catch {
    // missing or corrupt: start empty
  }
  let dirty = false;
  return {
    file,
    get size() {
      return map.size;
    },
    get: (key) => map.get(key),
    set(key, bytes) {
      if (map.get(key) === bytes) return;
      map.delete(key);
      map.set(key, bytes);
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      // Keep the most recently added entries.
      const entries = [...map.entries()].slice(-MAX_ENTRIES);
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, layers: Object.fromEntries(entries) }) + '\n');
      await rename(tmp, file);
      dirty = false;
    },
  };
}

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the gate measured about an image, kept by the engine's image id: an id names its content, so an image seen
 * before is not exported, analysed, started or smoke-tested again — a warm run moves nothing of the image over the
 * engine connection. A measurement also depends on what was asked (`input`: the paths measured, the start-up
 * settings, the smoke program); a different input is a different entry.
 */
export interface MeasurementKey {
  /** `stage`: an optimizer step's report, by the step's digest (in `imageId`). */
  kind: 'facts' | 'startup' | 'smoke' | 'stage';
  /** The engine's address (another engine measures on its own). */
  engine: string;
  /** The engine's image id (the config digest on the classic store, the manifest or index digest on containerd's). */
  imageId: string;
  input: unknown;
}

export interface MeasurementCache {
  get<T>(key: MeasurementKey): Promise<T | undefined>;
  set(key: MeasurementKey, value: unknown): Promise<void>;
}

/** A cache for one run (the default): an image measured twice in one run is measured once. */
export function createMemoryMeasurementCache(): MeasurementCache {
  const entries = new Map<string, string>();
  return {
    get: async <T>(key: MeasurementKey) => {
      const text = entries.get(keyHash(key));
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    set: async (key, value) => void entries.set(keyHash(key), JSON.stringify(value)),
  };
}

const MAX_FILES = 200;

/**
 * A cache in a directory (one JSON file per entry, e.g. `.image-reports/measurements/`), kept between runs and by
 * CI's cache. Keys are content addresses, so a stale entry can only miss, never lie; an unreadable entry is a miss.
 * The newest 200 entries are kept. Opening never throws; `set` rejects with the file system's error.
 */
export function openMeasurementCache(dir: string): MeasurementCache {
  return {
    async get<T>(key: MeasurementKey): Promise<T | undefined> {
      try {
        const stored = JSON.parse(await readFile(join(dir, `${keyHash(key)}.json`), 'utf8')) as { value: T };
        return stored.value;
      } catch {
        return undefined;
      }
    },
    async set(key, value) {
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${keyHash(key)}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ kind: key.kind, imageId: key.imageId, value }));
      await rename(tmp, file);
      await prune(dir);
    },
  };
}

async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_FILES) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })));
  dated.sort((a, b) => a.t - b.t);
  await Promise.all(dated.slice(0, names.length - MAX_FILES).map(({ n }) => rm(join(dir, n), { force: true })));
}

function keyHash(key: MeasurementKey): string {
  return createHash('sha256')
    .update(JSON.stringify([key.kind, key.engine, key.imageId, key.input]))
    .digest('hex');
}

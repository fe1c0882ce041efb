import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryMeasurementCache, openMeasurementCache } from '@4pass/builder/internal';
import { restoreFacts, storeFacts } from '../../../packages/builder/src/inspect/facts-json.js';
import type { ImageFacts } from '../../../packages/builder/src/inspect/inspect-image.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const key = (imageId: string, input: unknown = { paths: ['/opt/venv'] }) => ({
  kind: 'facts' as const,
  engine: 'unix:///var/run/docker.sock',
  imageId,
  input,
});

describe('measurement caches', () => {
  it('keep a value by kind, engine, image id and input; any other input misses', async () => {
    for (const cache of [createMemoryMeasurementCache(), openMeasurementCache(await tmp())]) {
      await cache.set(key('sha256:a'), { size: 1 });
      expect(await cache.get(key('sha256:a'))).toEqual({ size: 1 });
      expect(await cache.get(key('sha256:b'))).toBeUndefined();
      expect(await cache.get(key('sha256:a', { paths: ['/app'] }))).toBeUndefined();
      expect(await cache.get({ ...key('sha256:a'), engine: 'tcp://other:2376' })).toBeUndefined();
    }
  });

  it('on disk: survives a new process (a new handle), and a corrupt entry is a miss', async () => {
    const dir = await tmp();
    await openMeasurementCache(dir).set(key('sha256:a'), { size: 1 });
    expect(await openMeasurementCache(dir).get(key('sha256:a'))).toEqual({ size: 1 });
    const [file] = await readdir(dir);
    await writeFile(join(dir, file as string), '{not json');
    expect(await openMeasurementCache(dir).get(key('sha256:a'))).toBeUndefined();
  });

  it('stores image facts whole: the tree and the layers’ kept files come back as they were', () => {
    const facts = {
      ref: 'x',
      imageId: 'sha256:c',
      tree: new Map([['/app/a.py', { path: '/app/a.py', size: 3, type: 'file', mode: 0o644, layer: 1 }]]),
      knownLayers: new Map([
        ['sha256:l', { entries: [], files: new Map([['/app/METADATA', Buffer.from('Name: x')]]) }],
      ]),
    } as unknown as ImageFacts;
    const back = restoreFacts(JSON.parse(JSON.stringify(storeFacts(facts))) as ReturnType<typeof storeFacts>);
    expect(back.tree).toEqual(facts.tree);
    expect(back.knownLayers?.get('sha256:l')?.files.get('/app/METADATA')?.toString()).toBe('Name: x');
  });
});

async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), '4pass-measurements-'));
  dirs.push(dir);
  return dir;
}

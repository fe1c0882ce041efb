import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectEngine,
  loadConfig,
  runImages,
  type BuildResult,
  type Engine,
  type ImagesConfig,
  type RunImagesResult,
} from '@4pass/builder/internal';
import { createRegistryAuth } from '../../packages/builder/src/push/registry-auth.js';
import { OFFICIAL_BASES, engine as localEngine, runId, testLabel } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';
import { startSecondEngine, type SecondEngine } from '../../harness/second-engine.js';

/**
 * The registry build cache end to end, with the project's own example images: the gate with `--push` and `cache.to`
 * on the local engine writes every stage's inline cache to a registry with basic auth; then a FRESH second engine
 * (empty data root, nothing but the base images, loaded through the Engine API) builds both images reading that
 * cache — credentials handed to BuildKit over our session — and every RUN step of every target comes back CACHED.
 */

const root = resolve(import.meta.dirname, '../..');
const token = `cache-${runId}`;
let registry: TestRegistry;
let remote: SecondEngine | undefined;
let config: ImagesConfig;
const cacheOf = (image: string) => `${registry.host}/4pass-test/${runId}/cache-${image}`;

beforeAll(async () => {
  registry = await startRegistry({ password: token });
  remote = await startSecondEngine();
  const fresh = await connectEngine({ env: remote.tlsEnv });
  const local = await localEngine();
  for (const base of Object.values(OFFICIAL_BASES)) await fresh.loadImage(await local.exportImage(base));
  const loaded = await loadConfig(resolve(root, 'images.config.json'));
  const images = loaded.images.map((image) => ({
    ...image,
    repository: `4pass-test/${runId}-${image.name}`,
    labels: { ...image.labels, ...testLabel },
  }));
  config = { ...loaded, images };
});

afterAll(async () => {
  await registry?.dispose();
  const local = await localEngine();
  for (const image of await local.listImages({ label: [`org.4pass.test=${runId}`] }))
    for (const tag of image.repoTags) await local.removeImage(tag);
  if (remote) {
    await remote.stop();
    expect(remote.leftovers()).toEqual({ processes: [], mounts: [], bridge: false, rules: [] });
  }
});

const withCache = (to: boolean): ImagesConfig => ({
  ...config,
  images: config.images.map((image) => ({
    ...image,
    cache: { from: [cacheOf(image.name)], ...(to && { to: cacheOf(image.name) }) },
  })),
});

/** The build the pipeline ran for an image (one per image: every stage, the optimizer's too, is in it). */
function buildsOf(result: RunImagesResult, image: string): BuildResult[] {
  const build = result.builds[image];
  if (!build) throw new Error(`${image} was not built: ${JSON.stringify(result.report.errors)}`);
  return [build];
}

describe('a registry build cache (inline cache, every stage)', () => {
  it('is written with the push: the gate on one engine pushes each stage of each image to the cache', async () => {
    const auth = createRegistryAuth({ serveraddress: registry.host, username: 'AWS', password: token });
    const result = await runImages({
      engine: await localEngine(),
      config: withCache(true),
      budgets: false,
      push: { registry: { host: registry.host }, auth, allowDirty: true },
    });
    expect(result.report.errors).toEqual([]);
    expect(Object.values(result.pushes).map((p) => p.status)).toEqual(['pushed', 'pushed']);
    // The target and every stage it copies from or mounts: the API's runtime, web, builder, optimizer and
    // compile-venv; the worker's minimal (FROM scratch) and all it is made of, the closure's stages included.
    expect((await registry.listTags(`4pass-test/${runId}/cache-api`))?.sort()).toEqual([
      'builder',
      'compile-venv',
      'optimizer',
      'runtime',
      'web',
    ]);
    expect((await registry.listTags(`4pass-test/${runId}/cache-worker`))?.sort()).toEqual([
      'builder',
      'closure',
      'compile-app',
      'compile-minimal',
      'compile-venv',
      'minimal',
      'optimizer',
      'rootfs',
    ]);
  });

  it('is read by a FRESH engine: every RUN step of every target comes back CACHED', async () => {
    const fresh: Engine = await connectEngine({ env: second().tlsEnv });
    const env = { ...process.env, REGISTRY_USERNAME: 'AWS', REGISTRY_PASSWORD: token };
    const result = await runImages({ engine: fresh, config: withCache(false), budgets: false, env });
    expect(result.report.errors).toEqual([]);
    for (const image of ['api', 'worker']) {
      const runs = buildsOf(result, image).flatMap((b) => b.steps.filter((s) => / RUN /.test(s.name)));
      expect(runs.length, image).toBeGreaterThan(2);
      expect(
        runs.filter((s) => !s.cached).map((s) => s.name),
        `${image}: RUN steps not taken from the cache`,
      ).toEqual([]);
    }
  });
});

function second(): SecondEngine {
  if (!remote) throw new Error('the second engine did not start (see beforeAll)');
  return remote;
}

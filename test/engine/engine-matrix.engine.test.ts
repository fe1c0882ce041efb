import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import {
  gateReportSchema,
  inspectImage,
  pushToRegistry,
  type Engine,
  type GateReport,
  type ImageFacts,
} from '@4pass/builder/internal';
import { readDockerSave } from '../../packages/builder/src/inspect/read-docker-save.js';
import { dockerSaveOf } from '../unit/inspect/docker-save-fixtures.js';
import {
  copyImage,
  MATRIX_ENGINES,
  startMatrixEngine,
  stopMatrixEngine,
  type MatrixEngine,
} from '../../harness/engine-matrix.js';
import { execa } from '../../harness/exec.js';
import { engine as hostEngine, runId, testLabel } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';
import { CONTAINERD_SNAPSHOTTER } from '../../harness/second-engine.js';

/**
 * The engine matrix (issue 18): Debian 13's Docker Engine 26.1 started beside the host's engine (its own roots,
 * socket and bridge; outbound NAT for the API image's npm and apt steps), once with the classic image store and once
 * with the containerd image store. On each, `DOCKER_HOST=unix://… pnpm build:images --push` builds, gates and pushes
 * BOTH example images to a real registry, and the figures of the worker agree with the host engine's.
 *
 * Both images on both stores: a cold build of the api takes ~40 s and of the worker ~26 s on a fresh Engine 26 here
 * (2 cores), the whole gate of both ~2 min per engine, so the matrix adds ~5–6 min to `.ci/run`.
 *
 * The config is the project's, with each image under a repository of this run and engine, and the start-up TIME
 * budgets at level warn (timing depends on how busy the shared machine is; every other budget and structure check
 * still gates the push). Every engine started here is stopped and checked gone; the host's tags are removed.
 */

const root = resolve(import.meta.dirname, '../..');
const password = randomBytes(18).toString('base64url');
const sha = randomBytes(20).toString('hex');
const IMAGES = ['api', 'worker'];
const WORKER_PATHS = ['/opt/venv'];

let registry: TestRegistry;
let work: string;
let host: Engine;

const repository = (engineName: string, image: string) => `4pass-matrix-${runId}/${engineName}/${image}`;

/** images.config.json for one engine: absolute paths, this run's repositories and label, time budgets as warnings. */
async function matrixConfig(engineName: string): Promise<string> {
  const config = JSON.parse(await readFile(join(root, 'images.config.json'), 'utf8')) as {
    images: { name: string; budgets?: Record<string, unknown>; [key: string]: unknown }[];
  };
  const atRoot = (path: unknown) => (typeof path === 'string' ? join(root, path) : path);
  const images = config.images.map((image) => ({
    ...image,
    dockerfile: atRoot(image.dockerfile),
    context: atRoot(image.context),
    sourceDir: atRoot(image.sourceDir),
    repository: repository(engineName, image.name),
    labels: { ...(image.labels as Record<string, string> | undefined), ...testLabel },
    budgets: warnOnTime(image.budgets ?? {}),
  }));
  const file = join(work, `${engineName}.config.json`);
  await writeFile(file, JSON.stringify({ ...config, images }));
  return file;
}

function warnOnTime(budgets: Record<string, unknown>): Record<string, unknown> {
  const out = { ...budgets };
  for (const key of ['startupMedian', 'startupP95']) {
    const rule = budgets[key];
    if (typeof rule === 'string') out[key] = { limit: rule, level: 'warn' };
    else if (rule && typeof rule === 'object') out[key] = { ...rule, level: 'warn' };
  }
  return out;
}

/** `pnpm build:images` (the CLI over the built library) against the engine at `address`; its report. */
async function gate(engineName: string, address: string, args: string[]) {
  const json = join(work, `${engineName}.report.json`);
  const config = await matrixConfig(engineName);
  const run = await execa(
    join(root, 'node_modules/.bin/zx'),
    [join(root, 'scripts/build-images.mjs'), '--config', config, '--json', json, '--progress', 'plain', ...args],
    { cwd: root, env: { DOCKER_HOST: address, REGISTRY_USERNAME: 'AWS', REGISTRY_PASSWORD: password } },
  );
  const text = await readFile(json, 'utf8').catch(() => undefined);
  const report = text === undefined ? undefined : gateReportSchema.parse(JSON.parse(text));
  return { ...run, report };
}

type ImageReport = GateReport['images'][number];

/** What must not depend on the engine, from the gate report of an image built there. */
const builtFigures = (image: ImageReport) => ({
  sizeBytes: image.sizeBytes,
  layerCount: image.layerCount,
  paths: image.paths,
});

/** What must not depend on the engine for the SAME image (same layers): every figure and its identity. */
const sameImageFigures = (facts: ImageFacts) => ({
  identity: facts.imageId, // the config digest, which `docker save` and a registry name alike
  sizeBytes: facts.sizeBytes,
  compressedSizeBytes: facts.compressedSizeBytes,
  layers: facts.layers.length,
  paths: facts.paths,
});

const reference: { built?: ImageReport; facts?: ImageFacts; tag?: string } = {};

beforeAll(async () => {
  host = await hostEngine();
  work = await mkdtemp(join(tmpdir(), '4pass-matrix-'));
  registry = await startRegistry({ password });
});

afterAll(async () => {
  await registry?.dispose();
  // This run's tags on the host's engine (untagged only: the layers may be shared with other tests' images).
  for (const image of await host.listImages({ label: [`org.4pass.test=${runId}`] }))
    for (const tag of image.repoTags) await host.removeImage(tag).catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
  const left = await host.listImages({ label: [`org.4pass.test=${runId}`] });
  expect(left.flatMap((image) => image.repoTags)).toEqual([]);
});

describe('the host engine: the reference figures of the worker', () => {
  it('pnpm build:images --only worker --no-budget reports its size, layers and per-path sizes', async () => {
    const run = await gate('host', host.address, ['--only', 'worker', '--no-budget', '--sha', sha]);
    expect(run.report?.errors, run.stderr.slice(-3000)).toEqual([]);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    const worker = run.report?.images.find((image) => image.name === 'worker');
    expect(worker?.sizeBytes).toBeGreaterThan(20_000_000); // the minimal worker: ~40 MB
    reference.built = worker;
    // Its local tag (`sha-<7>`, `-dirty` from a work tree with changes) names it in `docker save` for the copies below.
    reference.tag = worker?.tags.find((tag) => tag.startsWith(`${repository('host', 'worker')}:sha-`));
    expect(reference.tag).toBeDefined();
    reference.facts = await inspectImage(host, reference.tag ?? '', { paths: WORKER_PATHS, contents: false });
    expect(reference.facts.imageId).toBe(worker?.imageId);
  });
});

describe.each(MATRIX_ENGINES)('Docker Engine 26 with the $store image store', ({ name, store }) => {
  let matrix: MatrixEngine | undefined;
  let report: GateReport | undefined;
  const started = () => {
    if (!matrix) throw new Error(`engine ${name} did not start (see beforeAll)`);
    return matrix;
  };

  beforeAll(async () => {
    matrix = await startMatrixEngine(name, store, host);
  });

  afterAll(async () => {
    if (!matrix) return;
    await stopMatrixEngine(matrix);
    expect(matrix.second.leftovers()).toEqual({ processes: [], mounts: [], bridge: false, rules: [] });
  });

  it('runs Engine 26.1 with the store asked for (GET /info)', async () => {
    const info = await started().second.info();
    expect(info.ServerVersion).toMatch(/^26\.1\./);
    const driverType = (info.DriverStatus ?? []).find(([key]) => key === 'driver-type')?.[1];
    if (store === 'containerd') expect(driverType).toBe(CONTAINERD_SNAPSHOTTER);
    else expect([info.Driver, driverType]).toEqual(['overlay2', undefined]);
  });

  it('DOCKER_HOST=unix://… pnpm build:images --push: both images build, pass the gate and are pushed', async () => {
    const run = await gate(name, started().address, [
      '--push',
      '--registry',
      registry.host,
      '--sha',
      sha,
      '--allow-dirty',
    ]);
    report = run.report;
    expect(run.report?.errors, run.stderr.slice(-3000)).toEqual([]);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    expect(run.report?.images.map((image) => image.name).sort()).toEqual(IMAGES);
    for (const image of run.report?.images ?? []) {
      expect(image.checks.filter((check) => check.status === 'fail')).toEqual([]);
      expect(image.push?.status).toBe('pushed');
      const tags = image.push?.tags ?? [];
      expect(tags.map((t) => t.tag)).toEqual([`sha-${sha.slice(0, 7)}`]); // a push never moves latest (issue 19)
      for (const { tag, digest } of tags)
        expect(await registry.manifestDigest(repository(name, image.name), tag)).toBe(digest);
    }
  });

  it('the worker built there measures what it measures on the host engine: size to the byte, layers, paths', () => {
    const worker = report?.images.find((image) => image.name === 'worker');
    if (!worker || !reference.built) throw new Error('no worker report (see the builds above)');
    // Not compared for images built apart: compressed size and identity. Engine 20.10 and 26 write other tar headers
    // for the same files (mode type bits, user and group names), and files the build writes carry its time.
    expect(builtFigures(worker)).toEqual(builtFigures(reference.built));
  });

  it("the host's worker, loaded there, has the host's figures: identity, size, compressed size, layers, paths", async () => {
    if (!reference.tag || !reference.facts) throw new Error('no reference worker (see the host engine above)');
    await copyImage(host, started().engine, reference.tag);
    const facts = await inspectImage(started().engine, reference.tag, { paths: WORKER_PATHS, contents: false });
    expect(sameImageFigures(facts)).toEqual(sameImageFigures(reference.facts));
  });

  it.runIf(store === 'containerd')(
    'an image whose target is an index (attestation beside it) is pushed and verified by the index digest',
    async () => {
      const { archive } = await dockerSaveOf({
        layers: [[{ name: 'app/hello.txt', content: 'hello\n'.repeat(500) }]],
        layout: 'oci',
        gzip: true,
        indexOnly: true,
      });
      const { engine } = started();
      await engine.loadImage(Readable.from([archive]));
      const ref = '4pass-fixture/indexed:1';
      const local = await engine.inspectImage(ref);
      const expected = await readDockerSave(Readable.from([archive]));
      const facts = await inspectImage(engine, ref, { contents: false });
      expect(facts.imageId).toBe(expected.configDigest); // not the engine's id, which is the index's digest
      expect(local?.Id).not.toBe(expected.configDigest);
      const pushed = await pushToRegistry({
        engine,
        image: ref,
        name: repository(name, 'indexed'),
        registry: { host: registry.host },
        tags: [`sha-${sha.slice(0, 7)}`, 'latest'],
        env: { REGISTRY_USERNAME: 'AWS', REGISTRY_PASSWORD: password },
      });
      expect(pushed.digest).toBe(local?.Id);
      for (const tag of [`sha-${sha.slice(0, 7)}`, 'latest'])
        expect(await registry.manifestDigest(repository(name, 'indexed'), tag)).toBe(local?.Id);
    },
  );
});

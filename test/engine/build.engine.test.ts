import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuildCanceledError,
  BuildError,
  ContextError,
  EngineUnavailableError,
  buildImage,
  connectEngine,
} from '@4pass/builder';
import { createPlainRenderer } from '../../packages/builder/src/render/plain-renderer.js';
import type { BuildEvent, BuildResult, Engine } from '@4pass/builder';
import { OFFICIAL_BASES, engine as sharedEngine, runId, testLabel } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/contexts/${name}`, import.meta.url));
const repo = `4pass-test/build-${runId}`;
const sleepers = (): string[] =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() === 'sleep 30');

let engine: Engine;
const tmpDirs: string[] = [];
/** Whether python:3.11-slim was in the engine before any build here (a CI runner; `FOURPASS_TEST_BASES=official`). */
let officialBefore: boolean;
beforeAll(async () => {
  engine = await sharedEngine();
  officialBefore = (await engine.inspectImage('python:3.11-slim')) !== undefined;
});
afterAll(async () => {
  const images = await engine.listImages({ reference: [`${repo}:*`] });
  for (const image of images) await engine.removeImage(image.id, { force: true });
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('buildImage against the real engine', () => {
  let first: BuildResult;

  it('builds a multi-stage Dockerfile and reports its steps (official base if present or pullable, else the stand-in)', async () => {
    const events: BuildEvent[] = [];
    let plain = '';
    const render = createPlainRenderer((s) => (plain += s));
    first = await buildImage({
      engine,
      contextDir: fixture('multistage'),
      tags: [`${repo}:multi`],
      labels: testLabel,
      noCache: true,
      onEvent: (e) => {
        events.push(e);
        render(e);
      },
    });
    expect(first.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const image = await engine.inspectImage(`${repo}:multi`);
    expect(image?.Id).toBe(first.imageId);
    expect(image?.Config.Labels?.['org.4pass.test']).toBe(runId);
    // Pulled during the build when the engine could reach a registry: then it is here now.
    const official = officialBefore || (await engine.inspectImage('python:3.11-slim')) !== undefined;
    const used = official ? 'python:3.11-slim' : OFFICIAL_BASES['python:3.11-slim'];
    expect(first.baseImages).toEqual([
      { arg: 'PYTHON_IMAGE', requested: 'python:3.11-slim', used, fallback: !official },
    ]);
    const names = first.steps.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        '[builder 2/4] WORKDIR /src',
        '[builder 3/4] COPY app.py .',
        '[stage-1 2/3] COPY --from=builder /out /app',
        '[stage-1 3/3] RUN python3 /app/app.py',
        'exporting to image',
      ]),
    );
    const run = first.steps.find((s) => s.name === '[stage-1 3/3] RUN python3 /app/app.py');
    expect(run?.cached).toBe(false);
    expect(run?.durationMs).toBeGreaterThan(0);
    expect(first.totalSteps).toBe(first.steps.length);
    expect(events.some((e) => e.type === 'step-log' && e.text === 'hello from app')).toBe(true);
    expect(events.some((e) => e.type === 'base-image-fallback')).toBe(!official);
    expect(plain).toMatch(
      /^#\d+ \[stage-1 3\/3\] RUN python3 \/app\/app\.py\n#\d+ \d\.\d{3} hello from app\n#\d+ DONE \d+\.\ds$/m,
    );
  });

  it('reports every Dockerfile step CACHED on a rebuild', async () => {
    const again = await buildImage({
      engine,
      contextDir: fixture('multistage'),
      tags: [`${repo}:multi`],
      labels: testLabel,
    });
    expect(again.imageId).toBe(first.imageId);
    const instructions = again.steps.filter((s) => /^\[[^\]]+ \d+\/\d+\] (?!FROM)/.test(s.name));
    expect(instructions.map((s) => s.name)).toHaveLength(5);
    for (const step of instructions) expect(step, step.name).toMatchObject({ cached: true });
    expect(again.cachedSteps).toBeGreaterThanOrEqual(5);
  });

  it('builds a target stage with build args', async () => {
    const result = await buildImage({
      engine,
      contextDir: fixture('multistage'),
      target: 'builder',
      tags: [`${repo}:target`],
      buildArgs: { PYTHON_IMAGE: first.baseImages[0]?.used ?? 'no base resolved' },
      labels: testLabel,
    });
    expect(result.baseImages).toEqual([]);
    expect(result.steps.some((s) => s.name.startsWith('[stage-1'))).toBe(false);
  });

  it('rejects a failing RUN with the step name, exit code and log tail', async () => {
    let plain = '';
    const render = createPlainRenderer((s) => (plain += s));
    const error = await buildImage({
      engine,
      contextDir: fixture('failing-run'),
      tags: [`${repo}:fail`],
      labels: testLabel,
      noCache: true,
      onEvent: render,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    const e = error as BuildError;
    expect(e.step).toBe('[3/3] RUN echo "about to fail"; echo "some error detail" >&2; exit 3');
    expect(e.exitCode).toBe(3);
    expect([...e.logTail].sort()).toEqual(['about to fail', 'some error detail']);
    expect(e.message).toMatch(/^step "\[3\/3\] RUN echo .*" failed: .*exit code: 3\n/);
    expect(plain).toContain('------\n > [3/3] RUN echo "about to fail"; echo "some error detail" >&2; exit 3:\n');
    expect(plain).toMatch(/#\d+ ERROR: .*exit code: 3\n/);
  });

  it('names a missing Dockerfile', async () => {
    const missing = join(fixture('multistage'), 'Nope.Dockerfile');
    const error = await buildImage({ engine, contextDir: fixture('multistage'), dockerfile: missing }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ContextError);
    expect((error as Error).message).toBe(`Dockerfile not found: ${missing}`);
  });

  it('gives a clear error for an unknown target', async () => {
    const error = await buildImage({
      engine,
      contextDir: fixture('multistage'),
      target: 'nope',
      labels: testLabel,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).step).toBeUndefined();
    expect((error as Error).message).toMatch(/^build failed: .*target stage nope could not be found/);
  });

  it('gives a clear error for a Dockerfile syntax error', async () => {
    const error = await buildImage({ engine, contextDir: fixture('parse-error'), labels: testLabel }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).step).toBeUndefined();
    expect((error as Error).message).toMatch(/dockerfile parse error line 3: unknown instruction: FOO/);
  });

  it('maps an HTTP error before the stream (network mode bridge) to BuildError', async () => {
    const error = await buildImage({
      engine,
      contextDir: fixture('multistage'),
      networkMode: 'bridge',
      labels: testLabel,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).statusCode).toBe(500);
    expect((error as Error).message).toMatch(/network mode "bridge" not supported by buildkit/);
  });

  it('fails with the no-engine error when DOCKER_HOST points at a closed socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), '4pass-nosock-'));
    tmpDirs.push(dir);
    const socket = join(dir, 'docker.sock');
    await writeFile(socket, '');
    const error = await connectEngine({ env: { DOCKER_HOST: `unix://${socket}` }, timeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toContain(`unix://${socket}`);
    expect((error as Error).message).toContain('DOCKER_HOST');
  });

  it('aborting mid-RUN cancels the build on the engine and leaves nothing running', async () => {
    expect(sleepers()).toEqual([]);
    const controller = new AbortController();
    const events: BuildEvent[] = [];
    const before = await engine.listContainers({});
    const pending = buildImage({
      engine,
      contextDir: fixture('slow-run'),
      tags: [`${repo}:slow`],
      buildArgs: { NONCE: runId },
      labels: testLabel,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    });
    const settled = pending.catch((e: unknown) => e);
    // Wait until the RUN's `sleep 30` is really running on the host, then abort.
    const started = Date.now() + 60_000;
    while (sleepers().length === 0 && Date.now() < started) await new Promise((r) => setTimeout(r, 100));
    expect(sleepers()).toHaveLength(1);
    // BuildKit batches log updates: the RUN's first line reaches us shortly after the process started.
    const sawLog = () => events.some((e) => e.type === 'step-log' && e.text === `started ${runId}`);
    const logDeadline = Date.now() + 10_000;
    while (!sawLog() && Date.now() < logDeadline) await new Promise((r) => setTimeout(r, 50));
    expect(sawLog()).toBe(true);
    controller.abort();
    const error = await settled;
    expect(error).toBeInstanceOf(BuildCanceledError);
    // The RUN's process is gone within a few seconds and no container was left behind.
    const deadline = Date.now() + 10_000;
    while (sleepers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(sleepers()).toEqual([]);
    const after = await engine.listContainers({});
    expect(after.filter((c) => c.state === 'running' && !before.some((b) => b.id === c.id))).toEqual([]);
    expect(await engine.inspectImage(`${repo}:slow`)).toBeUndefined();
  });
});

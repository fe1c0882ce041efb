import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BaseImageError, BuildCanceledError, BuildError, EngineRequestError, buildImage } from '@4pass/builder';
import type { BuildEvent, EngineJsonMessage } from '@4pass/builder';
import { recorded, replayEngine } from './replay-engine.js';

const context = (name: string): string => fileURLToPath(new URL(`../../fixtures/contexts/${name}`, import.meta.url));
const LOCAL = '4pass-local/python:3.11-slim';

describe('buildImage on recorded engine output', () => {
  it('reports image id, steps, durations, cache hits and the base-image fallback', async () => {
    const engine = replayEngine(recorded('success-multistage'), { images: [LOCAL] });
    const events: BuildEvent[] = [];
    const result = await buildImage({
      engine,
      contextDir: context('multistage'),
      tags: ['x:1'],
      onEvent: (e) => events.push(e),
    });

    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.tags).toEqual(['x:1']);
    expect(result.totalSteps).toBe(10);
    expect(result.steps.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const run = result.steps.find((s) => s.name.startsWith('[builder 4/4] RUN'));
    expect(run).toMatchObject({ cached: false });
    expect(run?.durationMs).toBeGreaterThan(100);
    expect(result.cachedSteps).toBe(1); // only the FROM
    expect(result.baseImages).toEqual([
      { arg: 'PYTHON_IMAGE', requested: 'python:3.11-slim', used: LOCAL, fallback: true },
    ]);

    const request = engine.requests[0];
    expect(request?.buildArgs).toEqual({ PYTHON_IMAGE: LOCAL });
    expect(request?.dockerfile).toBe('Dockerfile');
    expect(request?.buildId).toMatch(/^[0-9a-f-]{36}$/);
    expect(engine.pulls).toEqual(['python:3.11-slim']);

    expect(events[0]).toMatchObject({ type: 'base-image-fallback', arg: 'PYTHON_IMAGE', used: LOCAL });
    expect(events[1]).toMatchObject({ type: 'build-started', tags: ['x:1'] });
    expect(events.at(-1)).toMatchObject({ type: 'build-finished', imageId: result.imageId });
    const logs = events.filter((e) => e.type === 'step-log').map((e) => e.text);
    expect(logs).toEqual(['compiling app', 'to stderr', 'hello from app']);
    const stderr = events.find((e) => e.type === 'step-log' && e.text === 'to stderr');
    expect(stderr).toMatchObject({ stream: 'stderr', index: 7 });
  });

  it('reports every Dockerfile step CACHED on the recorded rebuild', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: [LOCAL] });
    const result = await buildImage({ engine, contextDir: context('multistage') });
    const instructions = result.steps.filter((s) => /^\[[^\]]+ \d+\/\d+\] (?!FROM)/.test(s.name));
    expect(instructions).toHaveLength(5);
    expect(instructions.every((s) => s.cached)).toBe(true);
  });

  it('rejects a failing RUN with the step, exit code, log tail and daemon message', async () => {
    const engine = replayEngine(recorded('failing-run'), { images: [LOCAL] });
    const events: BuildEvent[] = [];
    const error = await buildImage({
      engine,
      contextDir: context('failing-run'),
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    const e = error as BuildError;
    expect(e.name).toBe('BuildError');
    expect(e.step).toBe('[3/3] RUN echo "about to fail"; echo "some error detail" >&2; exit 3');
    expect(e.exitCode).toBe(3);
    expect(e.logTail).toEqual(['about to fail', 'some error detail']);
    expect(e.daemonMessage).toMatch(/executor failed running .*exit code: 3$/);
    expect(e.message).toBe(`step "${e.step}" failed: ${e.daemonMessage}\nabout to fail\nsome error detail`);
    expect(events.at(-1)).toMatchObject({ type: 'build-failed', canceled: false, step: { index: 6 } });
  });

  it('rejects a Dockerfile parse error without a step', async () => {
    const engine = replayEngine(recorded('parse-error'), { images: [LOCAL] });
    const error = (await buildImage({ engine, contextDir: context('parse-error') }).catch(
      (e: unknown) => e,
    )) as BuildError;
    expect(error).toBeInstanceOf(BuildError);
    expect(error.step).toBeUndefined();
    expect(error.exitCode).toBeUndefined();
    expect(error.message).toMatch(/^build failed: .*dockerfile parse error line 3: unknown instruction: FOO$/);
  });

  it('maps an HTTP error before the stream to BuildError', async () => {
    const engine = replayEngine([], {
      images: [LOCAL],
      buildError: new EngineRequestError('POST /build', 500, 'network mode "bridge" not supported by buildkit'),
    });
    const error = (await buildImage({ engine, contextDir: context('multistage'), networkMode: 'bridge' }).catch(
      (e: unknown) => e,
    )) as BuildError;
    expect(error).toBeInstanceOf(BuildError);
    expect(error.statusCode).toBe(500);
    expect(error.message).toBe('build failed: network mode "bridge" not supported by buildkit');
    expect(error.cause).toBeInstanceOf(EngineRequestError);
  });

  it('fails a stalled stream, canceling the build on the engine', async () => {
    const first = recorded('success-multistage').slice(0, 2);
    const engine = replayEngine(() => hangAfter(first, engineSignal()), { images: [LOCAL] });
    const engineSignal = (): AbortSignal | undefined => engine.requests[0]?.signal;
    const error = (await buildImage({ engine, contextDir: context('multistage'), stallTimeoutMs: 100 }).catch(
      (e: unknown) => e,
    )) as BuildError;
    expect(error).toBeInstanceOf(BuildError);
    expect(error.message).toMatch(/no progress from the engine/);
    expect(engine.canceled).toEqual([engine.requests[0]?.buildId]);
  });

  it('cancels on AbortSignal with BuildCanceledError', async () => {
    const first = recorded('success-multistage').slice(0, 2);
    const controller = new AbortController();
    const engine = replayEngine(() => hangAfter(first, engine.requests[0]?.signal), { images: [LOCAL] });
    const events: BuildEvent[] = [];
    const pending = buildImage({
      engine,
      contextDir: context('multistage'),
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step-started') controller.abort();
      },
    });
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildCanceledError);
    expect(engine.canceled).toEqual([engine.requests[0]?.buildId]);
    expect(engine.requests[0]?.signal?.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'build-failed', canceled: true });
  });

  it('rejects with BuildError when the stream ends without an image id', async () => {
    const engine = replayEngine(
      recorded('success-multistage').filter((m) => m.id !== 'moby.image.id'),
      { images: [LOCAL] },
    );
    await expect(buildImage({ engine, contextDir: context('multistage') })).rejects.toThrow(
      /without reporting an image id/,
    );
  });
});

describe('base image resolution', () => {
  it('uses the official image when present and leaves build args alone', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: ['python:3.11-slim'] });
    const result = await buildImage({ engine, contextDir: context('multistage') });
    expect(result.baseImages).toEqual([
      { arg: 'PYTHON_IMAGE', requested: 'python:3.11-slim', used: 'python:3.11-slim', fallback: false },
    ]);
    expect(engine.requests[0]?.buildArgs).toEqual({});
    expect(engine.pulls).toEqual([]);
  });

  it('pulls the official image when it can', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { pullable: ['python:3.11-slim'] });
    const result = await buildImage({ engine, contextDir: context('multistage') });
    expect(result.baseImages[0]).toMatchObject({ used: 'python:3.11-slim', fallback: false });
  });

  it('does not touch an ARG the caller set', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), {});
    const result = await buildImage({
      engine,
      contextDir: context('multistage'),
      buildArgs: { PYTHON_IMAGE: 'mine:1' },
    });
    expect(result.baseImages).toEqual([]);
    expect(engine.requests[0]?.buildArgs).toEqual({ PYTHON_IMAGE: 'mine:1' });
  });

  it('uses an injected fallback mapping', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: ['corp/python:3.11'] });
    const result = await buildImage({
      engine,
      contextDir: context('multistage'),
      baseImageFallbacks: { 'python:3.11-slim': 'corp/python:3.11' },
    });
    expect(result.baseImages[0]).toMatchObject({ used: 'corp/python:3.11', fallback: true });
  });

  it('names the image and the bootstrap script when nothing is available', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), {});
    const error = (await buildImage({ engine, contextDir: context('multistage') }).catch(
      (e: unknown) => e,
    )) as BaseImageError;
    expect(error).toBeInstanceOf(BaseImageError);
    expect(error.message).toContain('python:3.11-slim');
    expect(error.message).toContain('4pass-local/python:3.11-slim');
    expect(error.message).toContain('scripts/bootstrap.sh');
    expect(engine.requests).toHaveLength(0);
  });
});

async function* hangAfter(
  messages: EngineJsonMessage[],
  signal: AbortSignal | undefined,
): AsyncGenerator<EngineJsonMessage> {
  for (const m of messages) yield m;
  await new Promise<void>((_, reject) => {
    if (signal?.aborted) reject(new Error('aborted'));
    signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}

describe('buildImage events on unexpected failures', () => {
  it('ends with build-failed when the engine throws something other than a BuildError', async () => {
    const engine = replayEngine([], { images: [LOCAL], buildError: new Error('socket hang up') });
    const events: BuildEvent[] = [];
    await expect(
      buildImage({ engine, contextDir: context('multistage'), onEvent: (e) => events.push(e) }),
    ).rejects.toThrow('socket hang up');
    expect(events.map((e) => e.type)).toEqual(['base-image-fallback', 'build-started', 'build-failed']);
    expect(events.at(-1)).toMatchObject({ message: 'socket hang up', canceled: false });
  });
});

describe('buildImage with an already aborted signal', () => {
  it('rejects with BuildCanceledError and never calls the engine', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: [LOCAL] });
    const controller = new AbortController();
    controller.abort();
    await expect(
      buildImage({ engine, contextDir: context('multistage'), signal: controller.signal }),
    ).rejects.toBeInstanceOf(BuildCanceledError);
    expect(engine.requests).toHaveLength(0);
  });
});

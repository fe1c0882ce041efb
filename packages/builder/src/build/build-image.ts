import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createBuildContext } from '../context/create-build-context.js';
import type { ExtraEntry } from '../context/create-build-context.js';
import type { Engine, EngineJsonMessage } from '../engine/engine.js';
import { EngineRequestError } from '../errors.js';
import { resolveBaseImages } from './base-images.js';
import type { BaseImageResolution } from './base-images.js';
import { BuildCanceledError, BuildError } from './build-errors.js';
import type { BuildEvent } from './build-events.js';
import { decodeBuildkitTrace } from './trace-wire.js';
import { TraceTracker } from './trace-tracker.js';
import type { StepSummary } from './trace-tracker.js';

/** Options of {@link buildImage}. Paths are absolute or relative to the working directory. */
export interface BuildOptions {
  engine: Engine;
  contextDir: string;
  /** Default `<contextDir>/Dockerfile`; may lie outside the context. */
  dockerfile?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /** `default`, `host` or `none` (BuildKit refuses `bridge` and named networks). */
  networkMode?: string;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  /** Generated files / directories added to the context without touching the source tree. */
  extraEntries?: readonly ExtraEntry[];
  /** Receives typed progress events; see {@link BuildEvent}. Never called after the promise settles. */
  onEvent?: (event: BuildEvent) => void;
  /** Aborting cancels the build on the engine and rejects with {@link BuildCanceledError}. */
  signal?: AbortSignal;
  /** Fail when the engine sends nothing for this long. Default 10 minutes. */
  stallTimeoutMs?: number;
  /** Map the Dockerfile's base-image ARG defaults to present/pullable/local images. Default true. */
  resolveBaseImages?: boolean;
  /** Official image → local stand-in, default `4pass-local/<name>:<tag>`. */
  baseImageFallbacks?: Record<string, string>;
}

export interface BuildResult {
  /** `sha256:…` */
  imageId: string;
  tags: string[];
  steps: StepSummary[];
  cachedSteps: number;
  totalSteps: number;
  durationMs: number;
  baseImages: BaseImageResolution[];
}

const DEFAULT_STALL_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Builds an image with BuildKit through `POST /build?version=2`: streams the context, decodes BuildKit's trace into
 * {@link BuildEvent}s and resolves with the image id and per-step timings and cache hits.
 * @throws ContextError for a missing context directory or Dockerfile.
 * @throws BaseImageError when a base image ARG default cannot be resolved.
 * @throws BuildError when the engine reports an error (in-stream `errorDetail` or an HTTP error) or the stream stalls.
 * @throws BuildCanceledError when `signal` aborts; the build is canceled on the engine first.
 * @throws EngineUnavailableError when no engine answers.
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  let emitted = false;
  let failedEmitted = false;
  let settled = false;
  const emit = (event: BuildEvent): void => {
    if (settled) return;
    emitted = true;
    if (event.type === 'build-failed') failedEmitted = true;
    options.onEvent?.(event);
  };
  try {
    return await runBuild(options, emit);
  } catch (error) {
    // Whatever failed, a listener that saw the build begin also sees it end (a live view stops its timer).
    if (emitted && !failedEmitted) {
      emit({
        type: 'build-failed',
        message: error instanceof Error ? error.message : String(error),
        step: undefined,
        logTail: [],
        canceled: error instanceof BuildCanceledError,
      });
    }
    throw error;
  } finally {
    settled = true;
  }
}

async function runBuild(options: BuildOptions, emit: (event: BuildEvent) => void): Promise<BuildResult> {
  const started = Date.now();
  const { engine } = options;
  const tags = options.tags ?? [];
  const buildId = randomUUID();
  if (options.signal?.aborted) throw new BuildCanceledError(buildId, { cause: options.signal.reason });

  const context = await createBuildContext({
    contextDir: options.contextDir,
    ...(options.dockerfile !== undefined ? { dockerfile: options.dockerfile } : {}),
    ...(options.extraEntries ? { extraEntries: options.extraEntries } : {}),
  });

  let baseImages: BaseImageResolution[] = [];
  const buildArgs = { ...options.buildArgs };
  try {
    if (options.resolveBaseImages ?? true) {
      const dockerfilePath = resolve(options.dockerfile ?? join(options.contextDir, 'Dockerfile'));
      baseImages = await resolveBaseImages({
        engine,
        dockerfile: await readFile(dockerfilePath, 'utf8'),
        buildArgs,
        ...(options.baseImageFallbacks ? { baseImageFallbacks: options.baseImageFallbacks } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const base of baseImages) {
        if (!base.fallback) continue;
        buildArgs[base.arg] = base.used;
        emit({ type: 'base-image-fallback', arg: base.arg, requested: base.requested, used: base.used });
      }
    }
    if (options.signal?.aborted) throw new BuildCanceledError(buildId, { cause: options.signal.reason });
  } catch (error) {
    context.stream.destroy();
    if (options.signal?.aborted && !(error instanceof BuildCanceledError))
      throw new BuildCanceledError(buildId, { cause: error });
    throw error;
  }

  // One controller ends the HTTP request for every reason: caller abort, stall, or our own failure.
  const controller = new AbortController();
  let stopReason: 'abort' | 'stall' | undefined;
  let canceled: Promise<void> = Promise.resolve();
  const stop = (reason: 'abort' | 'stall'): void => {
    if (stopReason) return;
    stopReason = reason;
    // Cancel on the engine first (explicit, by build id), then drop the request (which cancels too).
    canceled = engine.cancelBuild(buildId).catch(() => undefined);
    controller.abort();
    context.stream.destroy();
  };
  const onAbort = (): void => stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stop('stall'), stallTimeoutMs);
  };

  const tracker = new TraceTracker();
  let imageId: string | undefined;
  let daemonError: { message: string; code?: number } | undefined;

  try {
    emit({ type: 'build-started', buildId, tags });
    armStallTimer();
    let messages: AsyncIterable<EngineJsonMessage>;
    try {
      messages = await engine.build({
        context: context.stream,
        dockerfile: context.dockerfileInContext,
        tags,
        buildId,
        buildArgs,
        signal: controller.signal,
        ...(options.target ? { target: options.target } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.networkMode ? { networkMode: options.networkMode } : {}),
        ...(options.noCache ? { noCache: true } : {}),
        ...(options.pull ? { pull: true } : {}),
        ...(options.platform ? { platform: options.platform } : {}),
      });
    } catch (error) {
      if (stopReason) throw stopError(stopReason, buildId, stallTimeoutMs, error);
      if (error instanceof EngineRequestError) {
        throw new BuildError({ daemonMessage: error.daemonMessage, statusCode: error.statusCode, cause: error });
      }
      throw error;
    }

    try {
      for await (const message of messages) {
        armStallTimer();
        if (message.errorDetail || message.error) {
          daemonError = { message: message.errorDetail?.message ?? message.error ?? 'unknown error' };
          if (message.errorDetail?.code !== undefined) daemonError.code = message.errorDetail.code;
          continue;
        }
        if (
          message.id === 'moby.buildkit.trace' &&
          (typeof message.aux === 'string' || message.aux instanceof Uint8Array)
        ) {
          for (const event of tracker.apply(decodeBuildkitTrace(message.aux))) emit(event);
        } else if (message.id === 'moby.image.id') {
          const id = (message.aux as { ID?: unknown } | undefined)?.ID;
          if (typeof id === 'string') imageId = id;
        } else if (typeof message.stream === 'string' && message.stream.trim() !== '') {
          emit({ type: 'build-message', text: message.stream.replace(/\n$/, '') });
        }
        if (stopReason) break;
      }
    } catch (error) {
      if (stopReason) throw stopError(stopReason, buildId, stallTimeoutMs, error);
      throw new BuildError({ daemonMessage: `the build stream broke: ${(error as Error).message}`, cause: error });
    }
    if (stopReason) throw stopError(stopReason, buildId, stallTimeoutMs);

    if (daemonError) {
      const failed = tracker.failedStep();
      const exit = /exit code: (\d+)/.exec(daemonError.message);
      const error = new BuildError({
        step: failed?.step.name,
        logTail: failed?.logTail ?? [],
        daemonMessage: daemonError.message,
        exitCode: exit ? Number(exit[1]) : undefined,
      });
      emit({
        type: 'build-failed',
        message: daemonError.message,
        step: failed?.step,
        logTail: failed?.logTail ?? [],
        canceled: false,
      });
      throw error;
    }
    if (!imageId) {
      throw new BuildError({ daemonMessage: 'the engine ended the build without reporting an image id' });
    }
    const durationMs = Date.now() - started;
    emit({ type: 'build-finished', imageId, durationMs });
    const steps = tracker.steps();
    return {
      imageId,
      tags,
      steps,
      cachedSteps: steps.filter((s) => s.cached).length,
      totalSteps: steps.length,
      durationMs,
      baseImages,
    };
  } catch (error) {
    if (stopReason) await canceled;
    if (error instanceof BuildCanceledError || (error instanceof BuildError && !daemonError)) {
      const failed = tracker.failedStep();
      emit({
        type: 'build-failed',
        message: error instanceof BuildError ? error.daemonMessage : error.message,
        step: failed?.step,
        logTail: failed?.logTail ?? [],
        canceled: error instanceof BuildCanceledError,
      });
    }
    throw error;
  } finally {
    clearTimeout(stallTimer);
    options.signal?.removeEventListener('abort', onAbort);
    context.stream.destroy();
  }
}

function stopError(reason: 'abort' | 'stall', buildId: string, stallTimeoutMs: number, cause?: unknown): Error {
  if (reason === 'abort') return new BuildCanceledError(buildId, { cause });
  return new BuildError({
    daemonMessage: `no progress from the engine for ${Math.round(stallTimeoutMs / 1000)} s; the build was canceled`,
    cause,
  });
}

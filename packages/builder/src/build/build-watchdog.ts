import type { EngineBuilds } from '../engine/engine.js';
import { BuildCanceledError, BuildError } from './build-errors.js';

export type StopReason = 'abort' | 'stall';

/** Ends a running build for the caller's abort or a stalled stream, and names the error that stop means. */
export interface BuildWatchdog {
  /** Aborts the HTTP request of the build once the watchdog stops it. */
  readonly signal: AbortSignal;
  /** Why the build was stopped, or undefined while it runs. */
  stopReason(): StopReason | undefined;
  /** (Re)starts the stall timer: call on start and on every message from the engine. */
  arm(): void;
  /** The error for the stop (`BuildCanceledError` or a stall `BuildError`), or undefined when not stopped. */
  stopError(cause?: unknown): Error | undefined;
  /** Settles once the explicit cancel request to the engine is done (at once when not stopped). */
  canceled(): Promise<void>;
  /** Clears the timer and the abort listener. */
  dispose(): void;
}

export interface BuildWatchdogOptions {
  engine: Pick<EngineBuilds, 'cancelBuild'>;
  buildId: string;
  signal: AbortSignal | undefined;
  stallTimeoutMs: number;
  /** Called once when the build is stopped (e.g. to destroy the context stream). */
  onStop: () => void;
}

/** Watches one build: the caller's `signal` and a stall timer both cancel it on the engine, then drop the request. */
export function createBuildWatchdog(options: BuildWatchdogOptions): BuildWatchdog {
  const { engine, buildId, stallTimeoutMs } = options;
  // One controller ends the HTTP request for every reason: caller abort, stall, or our own failure.
  const controller = new AbortController();
  let reason: StopReason | undefined;
  let canceled: Promise<void> = Promise.resolve();
  let stallTimer: NodeJS.Timeout | undefined;
  const stop = (why: StopReason): void => {
    if (reason) return;
    reason = why;
    // Cancel on the engine first (explicit, by build id), then drop the request (which cancels too).
    canceled = engine.cancelBuild(buildId).catch(() => undefined);
    controller.abort();
    options.onStop();
  };
  const onAbort = (): void => stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    stopReason: () => reason,
    arm: () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => stop('stall'), stallTimeoutMs);
    },
    stopError: (cause) => (reason ? stopError(reason, buildId, stallTimeoutMs, cause) : undefined),
    canceled: () => canceled,
    dispose: () => {
      clearTimeout(stallTimer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

function stopError(reason: StopReason, buildId: string, stallTimeoutMs: number, cause?: unknown): Error {
  if (reason === 'abort') return new BuildCanceledError(buildId, { cause });
  return new BuildError({
    daemonMessage: `no progress from the engine for ${Math.round(stallTimeoutMs / 1000)} s; the build was canceled`,
    cause,
  });
}

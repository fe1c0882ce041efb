import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { checkContextPaths } from '../context/create-build-context.js';
import type { ExtraEntry } from '../context/context-tree.js';
import type {
  EngineBuildRequest,
  EngineBuilds,
  EngineIdentity,
  EngineImages,
  EngineJsonMessage,
  RegistryAuth,
} from '../engine/engine.js';
import { EngineRequestError } from '../engine/engine-errors.js';
import { checkSecretBuildArgs } from '../secrets/secret-build-args.js';
import { SecretSet } from '../secrets/secret-set.js';
import { resolveBaseImages } from './base-images.js';
import type { BaseImageResolution } from './base-images.js';
import { BuildCanceledError, BuildError, BuildSecretMissingError } from './build-errors.js';
import type { BuildSession } from './build-session.js';
import {
  openContextTransport,
  type ContextTransfer,
  type ContextTransport,
  type ContextTransportKind,
} from './context-transport.js';
import type { BuildEvent } from './build-events.js';
import { cachedBuilds, type BuildCache } from './build-cache.js';
import { createBuildWatchdog } from './build-watchdog.js';
import type { BuildWatchdog } from './build-watchdog.js';
import { readBuildStream } from './read-build-stream.js';
import type { BuildStreamOutcome, DaemonError } from './read-build-stream.js';
import { findSecretMounts } from './secret-mounts.js';
import { stageTimings, type StageTiming } from './stage-timings.js';
import { TraceTracker } from './trace-tracker.js';
import type { StepSummary } from './trace-tracker.js';

/** Options of {@link buildImage}. Paths are absolute or relative to the working directory. */
export interface BuildOptions {
  /** The engine's builds, and its images (base images are resolved, and loaded from `baseImageSource`). */
  engine: EngineIdentity & EngineBuilds & EngineImages;
  contextDir: string;
  /** Default `<contextDir>/Dockerfile`; may lie outside the context. */
  dockerfile?: string;
  tags?: string[];
  target?: string;
  /**
   * Build args. Names or values that look like credentials (TOKEN, PASSWORD, SECRET, KEY, a URL with a password…)
   * are refused unless listed in `allowSecretBuildArgs`: credentials belong in `secrets`.
   */
  buildArgs?: Record<string, string>;
  /** Credential-looking build args accepted anyway; their values are redacted from every event, error and result. */
  allowSecretBuildArgs?: readonly string[];
  /**
   * Build secrets by id, for `RUN --mount=type=secret,id=<id>`: served to BuildKit over a session for this build only,
   * never a build arg, never in a layer; their values are redacted from every event, error and result.
   */
  secrets?: Readonly<Record<string, string | Uint8Array>>;
  /** id → where a configured secret comes from (`$NPM_TOKEN`, a file): named when a required one is missing. */
  secretSources?: Readonly<Record<string, string>>;
  /** Registry credentials BuildKit may use for pulls, each for its own `serveraddress` only. */
  registryAuth?: readonly RegistryAuth[];
  labels?: Record<string, string>;
  /** `default`, `host` or `none` (BuildKit refuses `bridge` and named networks). */
  networkMode?: string;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  /** Generated files / directories added to the context without touching the source tree. */
  extraEntries?: readonly ExtraEntry[];
  /**
   * How the context reaches the engine: through the build's session (default where the engine takes sessions; a
   * rebuild sends only what changed) or as a tar body (see {@link ContextTransportKind}).
   */
  contextTransport?: ContextTransportKind;
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
  /** An engine to load base images from when `engine` lacks them (in a pool: the local engine). */
  baseImageSource?: EngineIdentity & EngineImages;
  /** Registry images to take BuildKit's inline cache from (e.g. `registry/app-cache:runtime`). */
  cacheFrom?: string[];
  /** Record BuildKit's inline cache in the image (`BUILDKIT_INLINE_CACHE=1`), so a pushed copy can serve `cacheFrom`. */
  inlineCache?: boolean;
  /**
   * A registry build cache for the target and every stage it copies from: read from `from` (and `to`); with `to`, each
   * such stage is built first as its own target with its inline cache, tagged `<to>:<stage>` (then pushed by the
   * push stage).
   */
  cache?: BuildCache | undefined;
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
  /** How the context was sent and what it cost. */
  context: ContextTransfer;
  /** Per Dockerfile stage: taken from the cache or rebuilt, with the time of what ran. */
  stages: StageTiming[];
}

const DEFAULT_STALL_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Builds an image with BuildKit through `POST /build?version=2`: streams the context, decodes BuildKit's trace into
 * {@link BuildEvent}s and resolves with the image id and per-step timings and cache hits. When the Dockerfile mounts
 * secrets, or `registryAuth` is given, a BuildKit session serves them to this build and ends with it.
 * @throws SecretBuildArgError for credential-looking build args not allowed (before anything is sent).
 * @throws ContextError for a missing context directory or Dockerfile.
 * @throws BaseImageError when a base image ARG default cannot be resolved.
 * @throws BuildSecretMissingError when a step requires a build secret that was not given.
 * @throws BuildError when the engine reports an error (in-stream `errorDetail` or an HTTP error) or the stream stalls.
 * @throws BuildCanceledError when `signal` aborts; the build is canceled on the engine first.
 * @throws EngineUnavailableError when no engine answers.
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const builds = await cachedBuilds(options);
  for (const stage of builds.slice(0, -1)) await buildOne(stage);
  return buildOne(builds.at(-1) ?? options);
}

async function buildOne(options: BuildOptions): Promise<BuildResult> {
  const secrets = secretValues(options);
  let emitted = false;
  let failedEmitted = false;
  let settled = false;
  const emit = (event: BuildEvent): void => {
    if (settled) return;
    emitted = true;
    if (event.type === 'build-failed') failedEmitted = true;
    options.onEvent?.(secrets.redactDeep(event));
  };
  try {
    return secrets.redactDeep(await runBuild(options, emit));
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
    throw redactBuildError(error, secrets);
  } finally {
    settled = true;
  }
}

/** The values to keep out of every output: build secrets and allowed credential-looking build args. */
function secretValues(options: BuildOptions): SecretSet {
  const secrets = new SecretSet();
  for (const value of checkSecretBuildArgs(options.buildArgs ?? {}, options.allowSecretBuildArgs)) secrets.add(value);
  for (const value of Object.values(options.secrets ?? {})) secrets.addValue(value);
  return secrets;
}

/** A build error with secret values replaced (fields and message); other errors carry no build output. */
function redactBuildError(error: unknown, secrets: SecretSet): unknown {
  if (!(error instanceof BuildError) || secrets.size === 0) return error;
  return new BuildError({
    step: error.step === undefined ? undefined : secrets.redact(error.step),
    logTail: error.logTail.map((line) => secrets.redact(line)),
    daemonMessage: secrets.redact(error.daemonMessage),
    exitCode: error.exitCode,
    statusCode: error.statusCode,
  });
}

async function runBuild(options: BuildOptions, emit: (event: BuildEvent) => void): Promise<BuildResult> {
  const started = Date.now();
  const tags = options.tags ?? [];
  const buildId = randomUUID();
  if (options.signal?.aborted) throw new BuildCanceledError(buildId, { cause: options.signal.reason });
  const { transport, buildArgs, baseImages } = await prepareBuild(options, buildId, emit);
  const { session } = transport;
  const watchdog = createBuildWatchdog({
    engine: options.engine,
    buildId,
    signal: options.signal,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    onStop: () => transport.close(),
  });
  const tracker = new TraceTracker();
  let daemonError: DaemonError | undefined;
  try {
    emit({ type: 'build-started', buildId, tags });
    watchdog.arm();
    const fixed = { transport, tags, buildId, buildArgs, signal: watchdog.signal };
    const messages = await startEngineBuild(options.engine, engineRequest(options, fixed), watchdog);
    const outcome = await readBuildStream(messages, {
      tracker,
      emit,
      onMessage: () => watchdog.arm(),
      shouldStop: () => watchdog.stopReason() !== undefined,
    });
    daemonError = outcome.daemonError;
    const imageId = imageIdOf(outcome, watchdog, tracker, emit);
    const durationMs = Date.now() - started;
    emit({ type: 'build-finished', imageId, durationMs });
    const context = transport.transfer();
    return buildResult({ imageId, tags, steps: tracker.steps(), durationMs, baseImages, context });
  } catch (error) {
    if (watchdog.stopReason()) await watchdog.canceled();
    // A daemon error was reported with its step before throwing; every other build failure is reported here.
    if (error instanceof BuildCanceledError || (error instanceof BuildError && !daemonError)) {
      emit(failedEvent(error, tracker));
    }
    throw missingSecretError(error, session, options) ?? error;
  } finally {
    watchdog.dispose();
    transport.close();
  }
}

interface PreparedBuild {
  /** The context's way to the engine, with the session when there is one (closed when the build ends). */
  transport: ContextTransport;
  buildArgs: Record<string, string>;
  baseImages: BaseImageResolution[];
}

/** The build args (base images resolved), then the context's transport; nothing left open if one fails. */
async function prepareBuild(
  options: BuildOptions,
  buildId: string,
  emit: (event: BuildEvent) => void,
): Promise<PreparedBuild> {
  try {
    const paths = await checkContextPaths(options);
    const dockerfile = await readFile(paths.dockerfilePath, 'utf8');
    const { buildArgs, baseImages } = await resolveBuildArgs(options, dockerfile, buildId, emit);
    const registryAuth = options.registryAuth ?? [];
    const transport = await openContextTransport({
      engine: options.engine,
      kind: options.contextTransport ?? ((await options.engine.api()).supports('session') ? 'session' : 'tar'),
      paths,
      target: options.target,
      extraEntries: options.extraEntries,
      secrets: options.secrets,
      needsSession: findSecretMounts(dockerfile).length > 0 || registryAuth.length > 0,
      registryAuth,
      signal: options.signal,
    });
    return { transport, buildArgs, baseImages };
  } catch (error) {
    throw options.signal?.aborted && !(error instanceof BuildCanceledError)
      ? new BuildCanceledError(buildId, { cause: error })
      : error;
  }
}

/** A build that failed because BuildKit asked for secrets we did not have: say which, and where they come from. */
function missingSecretError(
  error: unknown,
  session: BuildSession | undefined,
  options: BuildOptions,
): BuildSecretMissingError | undefined {
  if (!(error instanceof BuildError) || !session?.missingSecrets.length) return undefined;
  // Only when BuildKit failed for want of one (`secret <id> not found`, a required mount): an optional secret left
  // out says nothing about why a step failed, and its own error (with the log tail) does.
  if (!session.missingSecrets.some((id) => error.daemonMessage.includes(`secret ${id}`))) return undefined;
  return new BuildSecretMissingError(
    session.missingSecrets,
    error.step,
    Object.keys(options.secrets ?? {}),
    options.secretSources ?? {},
    { cause: error },
  );
}

/** Maps the Dockerfile's base-image ARG defaults to usable images (see {@link resolveBaseImages}). */
async function resolveBuildArgs(
  options: BuildOptions,
  dockerfile: string,
  buildId: string,
  emit: (event: BuildEvent) => void,
): Promise<{ buildArgs: Record<string, string>; baseImages: BaseImageResolution[] }> {
  let baseImages: BaseImageResolution[] = [];
  const buildArgs: Record<string, string> = {
    ...options.buildArgs,
    ...(options.inlineCache && { BUILDKIT_INLINE_CACHE: '1' }),
  };
  if (options.resolveBaseImages ?? true) {
    baseImages = await resolveBaseImages({
      engine: options.engine,
      dockerfile,
      buildArgs,
      ...(options.baseImageFallbacks ? { baseImageFallbacks: options.baseImageFallbacks } : {}),
      ...(options.baseImageSource ? { source: options.baseImageSource } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const base of baseImages) {
      if (!base.fallback) continue;
      buildArgs[base.arg] = base.used;
      emit({ type: 'base-image-fallback', arg: base.arg, requested: base.requested, used: base.used });
    }
  }
  if (options.signal?.aborted) throw new BuildCanceledError(buildId, { cause: options.signal.reason });
  return { buildArgs, baseImages };
}

function engineRequest(
  options: BuildOptions,
  fixed: {
    transport: ContextTransport;
    tags: string[];
    buildId: string;
    buildArgs: Record<string, string>;
    signal: AbortSignal;
  },
): EngineBuildRequest {
  return {
    ...fixed.transport.request,
    tags: fixed.tags,
    buildId: fixed.buildId,
    buildArgs: fixed.buildArgs,
    signal: fixed.signal,
    ...(options.target ? { target: options.target } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.cacheFrom?.length ? { cacheFrom: options.cacheFrom } : {}),
    ...(options.networkMode ? { networkMode: options.networkMode } : {}),
    ...(options.noCache ? { noCache: true } : {}),
    ...(options.pull ? { pull: true } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
  };
}

/** Sends the build request; an HTTP refusal becomes a {@link BuildError}, a stop its own error. */
async function startEngineBuild(
  engine: EngineBuilds,
  request: EngineBuildRequest,
  watchdog: BuildWatchdog,
): Promise<AsyncIterable<EngineJsonMessage>> {
  try {
    return await engine.build(request);
  } catch (error) {
    const stopped = watchdog.stopError(error);
    if (stopped) throw stopped;
    if (error instanceof EngineRequestError) {
      throw new BuildError({ daemonMessage: error.daemonMessage, statusCode: error.statusCode, cause: error });
    }
    throw error;
  }
}

/** The image id the stream reported, or the error that ended the build (a daemon error is also emitted). */
function imageIdOf(
  outcome: BuildStreamOutcome,
  watchdog: BuildWatchdog,
  tracker: TraceTracker,
  emit: (event: BuildEvent) => void,
): string {
  if (outcome.broken) {
    const { error } = outcome.broken;
    throw (
      watchdog.stopError(error) ??
      new BuildError({ daemonMessage: `the build stream broke: ${(error as Error).message}`, cause: error })
    );
  }
  const stopped = watchdog.stopError();
  if (stopped) throw stopped;
  if (outcome.daemonError) {
    const { message } = outcome.daemonError;
    const failed = tracker.failedStep(message);
    const exit = /exit code: (\d+)/.exec(message);
    emit({ type: 'build-failed', message, step: failed?.step, logTail: failed?.logTail ?? [], canceled: false });
    throw new BuildError({
      step: failed?.step.name,
      logTail: failed?.logTail ?? [],
      daemonMessage: message,
      exitCode: exit ? Number(exit[1]) : undefined,
    });
  }
  if (!outcome.imageId) {
    throw new BuildError({ daemonMessage: 'the engine ended the build without reporting an image id' });
  }
  return outcome.imageId;
}

function failedEvent(error: BuildCanceledError | BuildError, tracker: TraceTracker): BuildEvent {
  const failed = tracker.failedStep(error instanceof BuildError ? error.daemonMessage : '');
  return {
    type: 'build-failed',
    message: error instanceof BuildError ? error.daemonMessage : error.message,
    step: failed?.step,
    logTail: failed?.logTail ?? [],
    canceled: error instanceof BuildCanceledError,
  };
}

function buildResult(fields: Omit<BuildResult, 'cachedSteps' | 'totalSteps' | 'stages'>): BuildResult {
  const { steps } = fields;
  return {
    imageId: fields.imageId,
    tags: fields.tags,
    steps,
    cachedSteps: steps.filter((s) => s.cached).length,
    totalSteps: steps.length,
    durationMs: fields.durationMs,
    baseImages: fields.baseImages,
    context: fields.context,
    stages: stageTimings(steps),
  };
}

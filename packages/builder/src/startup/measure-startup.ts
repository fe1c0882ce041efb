import { randomBytes } from 'node:crypto';
import type { ReadyProbe } from '../config/config-types.js';
import type { ContainerSpec, EngineContainers, EngineImages, ImageInspect } from '../engine/engine.js';

/** What a start-up measurement asks of an engine: its containers, and the image's settings. */
type StartupEngine = EngineContainers & Pick<EngineImages, 'inspectImage'>;
import { secretEnvValues } from '../secrets/scan-secrets.js';
import { StartupSetupError } from './startup-errors.js';
import { parseImportTime, type ImportTimeRecord } from './import-profile.js';
import { measureOnce } from './measure-once.js';
import { STARTUP_LABEL, STARTUP_OWNER_LABEL, startupOwner } from './stale-containers.js';
import type { StartupFailure, StartupResult, StartupRun, StartupSettings } from './startup-result.js';

/** Progress of a startup measurement. */
export type StartupEvent =
  | { type: 'startup-run-start'; image: string; run: number; runs: number }
  | {
      type: 'startup-run-end';
      image: string;
      run: number;
      runs: number;
      ok: boolean;
      readyMs?: number;
      error?: string;
    };

export interface MeasureStartupOptions {
  ready: ReadyProbe;
  /** Default 5. */
  runs?: number;
  /** Per run, container start → ready. Default 60 000 ms. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Default false: `NetworkMode: none`. */
  network?: boolean;
  /** Read-only root filesystem. Default true. */
  readOnly?: boolean;
  /** Default `{ '/tmp': 'rw,nosuid,nodev,size=64m' }`. */
  tmpfs?: Record<string, string>;
  /** Default: the image's own USER. */
  user?: string;
  /** Overrides the image's CMD. */
  cmd?: string[];
  /**
   * `ready: healthcheck` re-declares the image's own HEALTHCHECK test on the container with this interval (default
   * 100 ms) and a start period as long as the timeout, so readiness is seen within ~interval instead of the image's
   * production interval (often 30 s). The probe command itself is unchanged.
   */
  healthcheckIntervalMs?: number;
  /** Regex over the container's output with a named group `ms` (or `s`): the in-container process time. */
  processTimePattern?: string;
  /** Extra labels on the containers (tests add theirs). */
  labels?: Record<string, string>;
  /** How often the container state is polled (health status, exit). Default 25 ms. */
  pollIntervalMs?: number;
  /** Read PID 1's uid (engine top API) in the first ready run (for `nonRoot: runtime`). Default true. */
  readRuntimeUser?: boolean;
  /** Stop after the first failed run (default true: a timeout would otherwise cost runs × timeout). */
  stopOnFailure?: boolean;
  /**
   * After the timed runs, start once more with `PYTHONPROFILEIMPORTTIME=1` and keep the import-time lines it writes
   * to stderr until ready (`StartupResult.importTimes`). Not timed; absent when the image printed none. Default false.
   */
  profileImports?: boolean;
  onEvent?: (event: StartupEvent) => void;
  signal?: AbortSignal;
}

/**
 * Starts the image `runs` times as production would run it — its own user, read-only root filesystem with a tmpfs
 * `/tmp`, no network unless asked — and measures container start → ready on the host clock. Every container is
 * labelled `org.4pass.startup=<id>` (and its owner process, see stale-containers.ts) and removed in `finally`, also on
 * failure or abort; an abort ends the measurement with the signal's reason, never as a failed run.
 * @throws {StartupSetupError} when the image is missing or has no HEALTHCHECK while `ready` is `healthcheck`.
 * @throws {EngineRequestError} when the engine fails a request (create/start).
 */
export async function measureStartup(
  engine: EngineContainers & Pick<EngineImages, 'inspectImage'>,
  image: string,
  options: MeasureStartupOptions,
): Promise<StartupResult> {
  const settings: StartupSettings = {
    runs: options.runs ?? 5,
    timeoutMs: options.timeoutMs ?? 60_000,
    network: options.network ?? false,
    readOnly: options.readOnly ?? true,
    ...(options.user && { user: options.user }),
    ...(options.ready.kind === 'healthcheck' && { healthcheckIntervalMs: options.healthcheckIntervalMs ?? 100 }),
  };
  const inspect = await engine.inspectImage(image);
  if (!inspect) throw new StartupSetupError(`image ${image} does not exist on the engine`, image);
  const healthcheck = healthcheckOverride(image, inspect.Config.Healthcheck, options, settings.timeoutMs);
  const known = [
    ...secretEnvValues(inspect.Config.Env ?? []),
    ...secretEnvValues(Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)),
  ];
  const measurementId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const spec: ContainerSpec = {
    image: inspect.Id,
    ...(options.cmd && { cmd: options.cmd }),
    ...(options.user && { user: options.user }),
    env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    labels: { ...options.labels, [STARTUP_LABEL]: measurementId, [STARTUP_OWNER_LABEL]: startupOwner() },
    readOnlyRootfs: settings.readOnly,
    tmpfs: options.tmpfs ?? { '/tmp': 'rw,nosuid,nodev,size=64m' },
    networkMode: settings.network ? 'bridge' : 'none',
    ...(healthcheck && { healthcheck }),
  };
  const measured = await runMeasurements(engine, image, spec, known, settings, options);
  const importTimes = options.profileImports ? await profileImports(engine, spec, known, settings, options) : undefined;
  return { ...startupResult(image, options.ready, measured, settings), ...(importTimes && { importTimes }) };
}

/**
 * One extra, untimed start with Python's import-time profile switched on through the environment (no shell needed in
 * the image). Undefined when the run did not become ready or the image printed no import-time line (not Python).
 */
async function profileImports(
  engine: StartupEngine,
  spec: ContainerSpec,
  known: string[],
  { timeoutMs }: StartupSettings,
  options: MeasureStartupOptions,
): Promise<ImportTimeRecord[] | undefined> {
  if (options.signal?.aborted) return undefined;
  const one = await measureOnce(
    engine,
    { ...spec, env: [...(spec.env ?? []), 'PYTHONPROFILEIMPORTTIME=1'] },
    {
      ready: options.ready,
      timeoutMs,
      pollMs: options.pollIntervalMs ?? 25,
      readUid: false,
      known,
      keepStderr: true,
      ...(options.signal && { signal: options.signal }),
    },
  );
  const records = one.ok ? parseImportTime(one.stderr ?? '') : [];
  return records.length > 0 ? records : undefined;
}

/**
 * For `ready: healthcheck`: the image's own HEALTHCHECK test, polled every `healthcheckIntervalMs`, with failures
 * while starting not counted. Undefined for the other probes.
 */
function healthcheckOverride(
  image: string,
  hc: ImageInspect['Config']['Healthcheck'],
  options: MeasureStartupOptions,
  timeoutMs: number,
): ContainerSpec['healthcheck'] {
  if (options.ready.kind !== 'healthcheck') return undefined;
  if (!hc?.Test?.length || hc.Test[0] === 'NONE') {
    throw new StartupSetupError(
      `image ${image} has no HEALTHCHECK; startup.ready "healthcheck" needs one (or use logPattern / command)`,
      image,
    );
  }
  return {
    test: hc.Test,
    intervalMs: options.healthcheckIntervalMs ?? 100,
    timeoutMs: hc.Timeout ? hc.Timeout / 1e6 : 30_000,
    // Failures while starting do not count; the first success turns the container healthy at once.
    startPeriodMs: timeoutMs,
    retries: hc.Retries || 3,
  };
}

interface Measurements {
  results: StartupRun[];
  failures: StartupFailure[];
  runtimeUid: number | undefined;
}

/** Runs the container up to `runs` times, one after the other, reporting each run as an event. */
async function runMeasurements(
  engine: StartupEngine,
  image: string,
  spec: ContainerSpec,
  known: string[],
  { runs, timeoutMs }: StartupSettings,
  options: MeasureStartupOptions,
): Promise<Measurements> {
  const processPattern = options.processTimePattern ? new RegExp(options.processTimePattern, 'm') : undefined;
  const measured: Measurements = { results: [], failures: [], runtimeUid: undefined };
  for (let run = 1; run <= runs; run++) {
    // An abort is no failed run: it ends the measurement (the container of the run is removed first).
    options.signal?.throwIfAborted();
    options.onEvent?.({ type: 'startup-run-start', image, run, runs });
    const one = await measureOnce(engine, spec, {
      ready: options.ready,
      timeoutMs,
      pollMs: options.pollIntervalMs ?? 25,
      processPattern,
      readUid: options.readRuntimeUser !== false && measured.runtimeUid === undefined,
      known,
      ...(options.signal && { signal: options.signal }),
    });
    options.signal?.throwIfAborted();
    const result: StartupRun = {
      run,
      ok: one.ok,
      ...(one.readyMs !== undefined && { readyMs: round(one.readyMs) }),
      ...(one.processMs !== undefined && { processMs: round(one.processMs) }),
      ...(one.error && { error: one.error }),
    };
    measured.results.push(result);
    if (one.uid !== undefined) measured.runtimeUid = one.uid;
    if (!one.ok) measured.failures.push({ run, reason: one.error ?? 'failed', logTail: one.logTail });
    options.onEvent?.({
      type: 'startup-run-end',
      image,
      run,
      runs,
      ok: one.ok,
      ...(result.readyMs !== undefined && { readyMs: result.readyMs }),
      ...(one.error && { error: one.error }),
    });
    if (!one.ok && options.stopOnFailure !== false) break;
  }
  return measured;
}

function startupResult(
  image: string,
  ready: ReadyProbe,
  { results, failures, runtimeUid }: Measurements,
  settings: StartupSettings,
): StartupResult {
  const readyMs = results.filter((r) => r.ok && r.readyMs !== undefined).map((r) => r.readyMs as number);
  const processes = results.filter((r) => r.processMs !== undefined).map((r) => r.processMs as number);
  return {
    image,
    ready: ready.kind,
    runs: results,
    ok: results.length === settings.runs && results.every((r) => r.ok),
    ...(readyMs.length > 0 && {
      medianMs: round(median(readyMs)),
      p95Ms: round(percentile(readyMs, 95)),
      minMs: Math.min(...readyMs),
      maxMs: Math.max(...readyMs),
    }),
    ...(processes.length > 0 && { processMedianMs: round(median(processes)) }),
    failures,
    ...(runtimeUid !== undefined && { runtimeUid }),
    settings,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile of a non-empty list (p95 of 5 runs is the slowest run). */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1] as number;
}

/** Removes containers left by measurements (e.g. after a crash): all with the startup label, or one measurement's. */
export async function removeStartupContainers(engine: EngineContainers, measurementId?: string): Promise<number> {
  const containers = await engine.listContainers({
    label: [measurementId ? `${STARTUP_LABEL}=${measurementId}` : STARTUP_LABEL],
  });
  await Promise.all(containers.map((c) => engine.removeContainer(c.id)));
  return containers.length;
}

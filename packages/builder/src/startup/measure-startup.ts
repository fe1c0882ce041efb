import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadyProbe } from '../config/config-schema.js';
import { formatDuration } from '../units/format-units.js';
import type { ContainerSpec, Engine } from '../engine/engine.js';
import { redactSecrets, secretEnvValues } from '../secrets/scan-secrets.js';
import { FourpassError } from '../errors.js';
import type { StartupFailure, StartupResult, StartupRun } from './startup-result.js';

/** Label on every container a measurement creates (value: the measurement id), so leftovers can be found. */
export const STARTUP_LABEL = 'org.4pass.startup';

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
  /** Read PID 1's uid from /proc/1/status in the first ready run (for `nonRoot: runtime`). Default true. */
  readRuntimeUser?: boolean;
  /** Stop after the first failed run (default true: a timeout would otherwise cost runs × timeout). */
  stopOnFailure?: boolean;
  onEvent?: (event: StartupEvent) => void;
  signal?: AbortSignal;
}

/** The image to measure does not exist, or cannot be measured as configured (e.g. no HEALTHCHECK to wait for). */
export class StartupSetupError extends FourpassError {
  override readonly name = 'StartupSetupError' as const;
  constructor(
    message: string,
    readonly image: string,
  ) {
    super(message);
  }
}

const LOG_TAIL_LINES = 20;

/**
 * Starts the image `runs` times as production would run it — its own user, read-only root filesystem with a tmpfs
 * `/tmp`, no network unless asked — and measures container start → ready on the host clock. Every container is
 * labelled `org.4pass.startup=<id>` and removed in `finally`, also on failure or abort.
 * @throws {StartupSetupError} when the image is missing or has no HEALTHCHECK while `ready` is `healthcheck`.
 * @throws {EngineRequestError} when the engine fails a request (create/start).
 */
export async function measureStartup(
  engine: Engine,
  image: string,
  options: MeasureStartupOptions,
): Promise<StartupResult> {
  const runs = options.runs ?? 5;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollIntervalMs ?? 25;
  const network = options.network ?? false;
  const readOnly = options.readOnly ?? true;
  const intervalMs = options.healthcheckIntervalMs ?? 100;
  const inspect = await engine.inspectImage(image);
  if (!inspect) throw new StartupSetupError(`image ${image} does not exist on the engine`, image);

  let healthcheck: ContainerSpec['healthcheck'];
  if (options.ready.kind === 'healthcheck') {
    const hc = inspect.Config.Healthcheck;
    if (!hc?.Test?.length || hc.Test[0] === 'NONE') {
      throw new StartupSetupError(
        `image ${image} has no HEALTHCHECK; startup.ready "healthcheck" needs one (or use logPattern / command)`,
        image,
      );
    }
    healthcheck = {
      test: hc.Test,
      intervalMs,
      timeoutMs: hc.Timeout ? hc.Timeout / 1e6 : 30_000,
      // Failures while starting do not count; the first success turns the container healthy at once.
      startPeriodMs: timeoutMs,
      retries: hc.Retries || 3,
    };
  }

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
    labels: { ...options.labels, [STARTUP_LABEL]: measurementId },
    readOnlyRootfs: readOnly,
    tmpfs: options.tmpfs ?? { '/tmp': 'rw,nosuid,nodev,size=64m' },
    networkMode: network ? 'bridge' : 'none',
    ...(healthcheck && { healthcheck }),
  };
  const processPattern = options.processTimePattern ? new RegExp(options.processTimePattern, 'm') : undefined;

  const results: StartupRun[] = [];
  const failures: StartupFailure[] = [];
  let runtimeUid: number | undefined;
  for (let run = 1; run <= runs; run++) {
    if (options.signal?.aborted) break;
    options.onEvent?.({ type: 'startup-run-start', image, run, runs });
    const one = await measureOnce(engine, spec, {
      ready: options.ready,
      timeoutMs,
      pollMs,
      processPattern,
      readUid: options.readRuntimeUser !== false && runtimeUid === undefined,
      known,
      ...(options.signal && { signal: options.signal }),
    });
    const result: StartupRun = {
      run,
      ok: one.ok,
      ...(one.readyMs !== undefined && { readyMs: round(one.readyMs) }),
      ...(one.processMs !== undefined && { processMs: round(one.processMs) }),
      ...(one.error && { error: one.error }),
    };
    results.push(result);
    if (one.uid !== undefined) runtimeUid = one.uid;
    if (!one.ok) failures.push({ run, reason: one.error ?? 'failed', logTail: one.logTail });
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

  const ready = results.filter((r) => r.ok && r.readyMs !== undefined).map((r) => r.readyMs as number);
  const processes = results.filter((r) => r.processMs !== undefined).map((r) => r.processMs as number);
  return {
    image,
    ready: options.ready.kind,
    runs: results,
    ok: results.length === runs && results.every((r) => r.ok),
    ...(ready.length > 0 && {
      medianMs: round(median(ready)),
      p95Ms: round(percentile(ready, 95)),
      minMs: Math.min(...ready),
      maxMs: Math.max(...ready),
    }),
    ...(processes.length > 0 && { processMedianMs: round(median(processes)) }),
    failures,
    ...(runtimeUid !== undefined && { runtimeUid }),
    settings: {
      runs,
      timeoutMs,
      network,
      readOnly,
      ...(options.user && { user: options.user }),
      ...(options.ready.kind === 'healthcheck' && { healthcheckIntervalMs: intervalMs }),
    },
  };
}

interface OnceResult {
  ok: boolean;
  readyMs?: number;
  processMs?: number;
  error?: string;
  uid?: number;
  logTail: string[];
}

async function measureOnce(
  engine: Engine,
  spec: ContainerSpec,
  o: {
    ready: ReadyProbe;
    timeoutMs: number;
    pollMs: number;
    processPattern?: RegExp;
    readUid: boolean;
    known: string[];
    signal?: AbortSignal;
  },
): Promise<OnceResult> {
  const logs = new AbortController();
  let output = '';
  let id: string | undefined;
  try {
    id = await engine.createContainer(spec);
    const cid = id;
    let matched: number | undefined;
    const pattern = o.ready.kind === 'logPattern' ? new RegExp(o.ready.pattern, 'm') : undefined;
    const started = performance.now();
    await engine.startContainer(cid);
    // Logs from the beginning (no `since`), so nothing printed before the follow request is lost.
    const following = engine
      .followLogs(
        cid,
        (_stream, text) => {
          output += text;
          if (pattern && matched === undefined && pattern.test(output)) matched = performance.now();
        },
        logs.signal,
      )
      .catch(() => undefined);

    const deadline = started + o.timeoutMs;
    let readyAt: number | undefined;
    let error: string | undefined;
    while (readyAt === undefined && error === undefined) {
      if (o.signal?.aborted) {
        error = 'aborted';
        break;
      }
      if (o.ready.kind === 'logPattern' && matched !== undefined) {
        readyAt = matched;
        break;
      }
      if (o.ready.kind === 'command') {
        const r = await engine.exec(cid, o.ready.command).catch(() => undefined);
        if (r?.exitCode === 0) {
          readyAt = performance.now();
          break;
        }
      }
      const state = await engine.inspectContainer(cid);
      if (o.ready.kind === 'healthcheck' && state?.State.Health?.Status === 'healthy') {
        readyAt = performance.now();
        break;
      }
      if (o.ready.kind === 'logPattern' && matched !== undefined) {
        readyAt = matched;
        break;
      }
      if (!state || !state.State.Running) {
        // One last look at the output: the ready line may have been the last thing it printed.
        await Promise.race([following, sleep(200)]);
        if (o.ready.kind === 'logPattern' && matched !== undefined) readyAt = matched;
        else error = `exited with code ${state?.State.ExitCode ?? '?'} before ready`;
        break;
      }
      if (performance.now() >= deadline) {
        error = `not ready within ${formatDuration(o.timeoutMs)}`;
        break;
      }
      await sleep(o.pollMs);
    }

    if (readyAt !== undefined) {
      let processMs: number | undefined;
      let uid: number | undefined;
      if (o.processPattern) {
        processMs = findProcessMs(output, o.processPattern);
        if (processMs === undefined) {
          const all = await engine.containerLogs(cid).catch(() => undefined);
          if (all) processMs = findProcessMs(all.stdout + all.stderr, o.processPattern);
        }
      }
      if (o.readUid) uid = await readPid1Uid(engine, cid);
      return {
        ok: true,
        readyMs: readyAt - started,
        ...(processMs !== undefined && { processMs }),
        ...(uid !== undefined && { uid }),
        logTail: [],
      };
    }
    const all = await engine.containerLogs(cid).catch(() => undefined);
    const text = all ? `${all.stdout}${all.stderr ? `\n${all.stderr}` : ''}` : output;
    return { ok: false, error: error ?? 'failed', logTail: tail(text, o.known) };
  } catch (e) {
    return { ok: false, error: redactSecrets((e as Error).message, o.known), logTail: tail(output, o.known) };
  } finally {
    logs.abort();
    if (id) await engine.removeContainer(id).catch(() => undefined);
  }
}

function findProcessMs(text: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(text);
  const g = m?.groups;
  if (!g) return undefined;
  if (g.ms !== undefined) return Number(g.ms);
  if (g.s !== undefined) return Number(g.s) * 1000;
  return undefined;
}

/** Real uid of PID 1 from `/proc/1/status` (`Uid: real effective saved fs`). */
async function readPid1Uid(engine: Engine, id: string): Promise<number | undefined> {
  const r = await engine.exec(id, ['cat', '/proc/1/status']).catch(() => undefined);
  const m = r && r.exitCode === 0 ? /^Uid:\s+(\d+)/m.exec(r.stdout) : null;
  return m ? Number(m[1]) : undefined;
}

function tail(text: string, known: readonly string[]): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-LOG_TAIL_LINES)
    .map((l) => redactSecrets(l, known).slice(0, 500));
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
export async function removeStartupContainers(engine: Engine, measurementId?: string): Promise<number> {
  const containers = await engine.listContainers({
    label: [measurementId ? `${STARTUP_LABEL}=${measurementId}` : STARTUP_LABEL],
  });
  await Promise.all(containers.map((c) => engine.removeContainer(c.id)));
  return containers.length;
}

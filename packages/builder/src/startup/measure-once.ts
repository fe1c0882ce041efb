import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadyProbe } from '../config/config-types.js';
import { formatDuration } from '../units/format-units.js';
import type { ContainerSpec, EngineContainers } from '../engine/engine.js';
import { redactSecrets } from '../secrets/scan-secrets.js';

const LOG_TAIL_LINES = 20;

export interface OnceOptions {
  ready: ReadyProbe;
  timeoutMs: number;
  pollMs: number;
  processPattern?: RegExp | undefined;
  readUid: boolean;
  /** Secret values to redact from errors and log lines. */
  known: string[];
  /** Keep the container's whole stderr once ready (the import-time profile run). */
  keepStderr?: boolean;
  signal?: AbortSignal;
}

export interface OnceResult {
  ok: boolean;
  readyMs?: number;
  processMs?: number;
  error?: string;
  uid?: number;
  /** With `keepStderr`: everything the container wrote to stderr until it was ready. */
  stderr?: string;
  logTail: string[];
}

/** Creates, starts and times one container until it is ready (or fails); the container is always removed. */
export async function measureOnce(engine: EngineContainers, spec: ContainerSpec, o: OnceOptions): Promise<OnceResult> {
  const watch = new OutputWatch();
  let id: string | undefined;
  try {
    id = await engine.createContainer(spec);
    const cid = id;
    const pattern = o.ready.kind === 'logPattern' ? new RegExp(o.ready.pattern, 'm') : undefined;
    const started = performance.now();
    await engine.startContainer(cid);
    const following = watch.follow(engine, cid, pattern);
    const outcome = await waitUntilReady(engine, cid, o, watch, following, started + o.timeoutMs);
    if ('readyAt' in outcome) return await readyResult(engine, cid, o, watch.output, outcome.readyAt - started);
    const all = await engine.containerLogs(cid).catch(() => undefined);
    const text = all ? `${all.stdout}${all.stderr ? `\n${all.stderr}` : ''}` : watch.output;
    return { ok: false, error: outcome.error, logTail: tail(text, o.known) };
  } catch (e) {
    return { ok: false, error: redactSecrets((e as Error).message, o.known), logTail: tail(watch.output, o.known) };
  } finally {
    watch.stop();
    if (id) await engine.removeContainer(id).catch(() => undefined);
  }
}

/** The container's output as it arrives, and when the ready pattern (if any) first matched it. */
class OutputWatch {
  output = '';
  matchedAt: number | undefined;
  private readonly logs = new AbortController();

  /** Follows the logs from the beginning (no `since`), so nothing printed before the request is lost. */
  follow(engine: EngineContainers, id: string, pattern: RegExp | undefined): Promise<void> {
    return engine
      .followLogs(
        id,
        (_stream, text) => {
          this.output += text;
          if (pattern && this.matchedAt === undefined && pattern.test(this.output)) {
            this.matchedAt = performance.now();
          }
        },
        this.logs.signal,
      )
      .catch(() => undefined);
  }

  stop(): void {
    this.logs.abort();
  }
}

type ReadyOutcome = { readyAt: number } | { error: string };

/** Polls the container until the probe says ready, it exits, the deadline passes or the caller aborts. */
async function waitUntilReady(
  engine: EngineContainers,
  id: string,
  o: OnceOptions,
  watch: OutputWatch,
  following: Promise<void>,
  deadline: number,
): Promise<ReadyOutcome> {
  for (;;) {
    if (o.signal?.aborted) return { error: 'aborted' };
    if (o.ready.kind === 'logPattern' && watch.matchedAt !== undefined) return { readyAt: watch.matchedAt };
    if (o.ready.kind === 'command') {
      const r = await engine.exec(id, o.ready.command).catch(() => undefined);
      if (r?.exitCode === 0) return { readyAt: performance.now() };
    }
    const state = await engine.inspectContainer(id);
    if (o.ready.kind === 'healthcheck' && state?.State.Health?.Status === 'healthy') {
      return { readyAt: performance.now() };
    }
    if (o.ready.kind === 'logPattern' && watch.matchedAt !== undefined) return { readyAt: watch.matchedAt };
    if (!state || !state.State.Running) {
      // One last look at the output: the ready line may have been the last thing it printed.
      await Promise.race([following, sleep(200)]);
      if (o.ready.kind === 'logPattern' && watch.matchedAt !== undefined) return { readyAt: watch.matchedAt };
      return { error: `exited with code ${state?.State.ExitCode ?? '?'} before ready` };
    }
    if (performance.now() >= deadline) return { error: `not ready within ${formatDuration(o.timeoutMs)}` };
    await sleep(o.pollMs);
  }
}

/** A ready run, with the image's own process time and PID 1's uid when asked for. */
async function readyResult(
  engine: EngineContainers,
  id: string,
  o: OnceOptions,
  output: string,
  readyMs: number,
): Promise<OnceResult> {
  let processMs: number | undefined;
  let uid: number | undefined;
  if (o.processPattern) {
    processMs = findProcessMs(output, o.processPattern);
    if (processMs === undefined) {
      const all = await engine.containerLogs(id).catch(() => undefined);
      if (all) processMs = findProcessMs(all.stdout + all.stderr, o.processPattern);
    }
  }
  if (o.readUid) uid = await readPid1Uid(engine, id);
  const stderr = o.keepStderr ? (await engine.containerLogs(id).catch(() => undefined))?.stderr : undefined;
  return {
    ok: true,
    readyMs,
    ...(processMs !== undefined && { processMs }),
    ...(uid !== undefined && { uid }),
    ...(stderr !== undefined && { stderr }),
    logTail: [],
  };
}

function findProcessMs(text: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(text);
  const g = m?.groups;
  if (!g) return undefined;
  if (g.ms !== undefined) return Number(g.ms);
  if (g.s !== undefined) return Number(g.s) * 1000;
  return undefined;
}

/**
 * Real uid of the container's PID 1, from the engine's process list (`top`, the engine host's `ps`) matched on the
 * host PID that inspect reports: nothing runs inside the image, so it works without a shell or `cat`.
 */
async function readPid1Uid(engine: EngineContainers, id: string): Promise<number | undefined> {
  const pid = (await engine.inspectContainer(id).catch(() => undefined))?.State.Pid;
  if (!pid) return undefined;
  // A container that already exited has no PID 1 left: the engine answers with an error or no processes.
  const top = await engine.topContainer(id, '-o pid,ruid').catch(() => undefined);
  const titles = top?.Titles ?? [];
  const pidColumn = titles.indexOf('PID');
  const uidColumn = titles.indexOf('RUID');
  const row = (top?.Processes ?? []).find((p) => Number(p[pidColumn]) === pid);
  const uid = row ? Number(row[uidColumn]) : NaN;
  return Number.isInteger(uid) ? uid : undefined;
}

function tail(text: string, known: readonly string[]): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-LOG_TAIL_LINES)
    .map((l) => redactSecrets(l, known).slice(0, 500));
}

import type { BuildEvent, StepRef } from '../buildkit/build-events.js';
import { formatBuildkitBytes } from '../units/format-units.js';
import { formatLogTime, formatSeconds } from './format.js';

export interface PlainRendererOptions {
  /** Also print each step's vertex digest under its name, as the Docker 20.10 CLI does. Default false (buildx style). */
  showDigests?: boolean;
}

const MIN_PROGRESS_DELTA = 0.05;
const MIN_TIME_DELTA_MS = 5000;
const ERROR_LOG_LINES = 10;

/**
 * Renders build events exactly like `docker build --progress=plain` (BuildKit's progressui textMux):
 * `#N name`, `#N 0.123 log line`, `#N status`, `#N DONE 1.2s`, `#N CACHED`, `#N ERROR: …`, `#N CANCELED`, `#N ...` when
 * another step interleaves, and on failure the `------ > step: <last lines> ------` block.
 */
export function createPlainRenderer(
  write: (text: string) => void,
  options: PlainRendererOptions = {},
): (event: BuildEvent) => void {
  const state: PlainState = {
    current: undefined,
    notFirst: false,
    indexes: new Map(),
    lastStatus: new Map(),
    recentLogs: new Map(),
    failed: [],
  };
  const switchTo = (step: StepRef): void => switchStep(state, step, write, options.showDigests ?? false);

  return (event) => {
    if ('digest' in event) state.indexes.set(event.digest, event.index);
    switch (event.type) {
      case 'base-image-fallback':
        write(`! base image ${event.requested} not available: using ${event.used} (ARG ${event.arg})\n`);
        return;
      case 'step-started':
        switchTo(event);
        return;
      case 'step-status':
        if (!statusChangedEnough(state.lastStatus.get(event.id), event)) return;
        state.lastStatus.set(event.id, { current: event.current, timestamp: event.timestamp });
        switchTo(event);
        write(statusLine(event));
        return;
      case 'step-warning':
        switchTo(event);
        write(`#${event.index} WARN: ${event.message}\n`);
        return;
      case 'step-log': {
        switchTo(event);
        const line = `${formatLogTime(event.elapsedMs)} ${event.text}`;
        write(`#${event.index} ${line}\n`);
        remember(state.recentLogs, event.digest, line);
        return;
      }
      case 'step-cached':
      case 'step-done':
      case 'step-error':
      case 'step-canceled':
        switchTo(event);
        write(stepEndLine(event));
        if (event.type === 'step-error') state.failed.push({ name: event.name, digest: event.digest });
        state.current = undefined;
        return;
      case 'build-failed':
        // buildx prints the failing steps' last log lines once the progress display has finished.
        for (const line of failureBlock(state.failed, state.recentLogs)) write(line);
        return;
      default:
        return;
    }
  };
}

interface PlainState {
  /** The step whose lines were printed last. */
  current: string | undefined;
  notFirst: boolean;
  indexes: Map<string, number>;
  lastStatus: Map<string, { current: number; timestamp: number }>;
  recentLogs: Map<string, string[]>;
  failed: { name: string; digest: string }[];
}

/** Prints the step's header when its lines follow another step's (`#N ...` closes the interrupted one). */
function switchStep(state: PlainState, step: StepRef, write: (text: string) => void, showDigests: boolean): void {
  if (state.current === step.digest) return;
  if (state.current !== undefined) write(`#${state.indexes.get(state.current) ?? 0} ...\n`);
  if (state.notFirst) write('\n');
  state.notFirst = true;
  write(`#${step.index} ${step.name}\n`);
  if (showDigests) write(`#${step.index} ${step.digest}\n`);
  state.current = step.digest;
}

type StatusEvent = Extract<BuildEvent, { type: 'step-status' }>;

/** Like progressui, a running status is reprinted only after 5 % more progress or 5 s. */
function statusChangedEnough(last: { current: number; timestamp: number } | undefined, event: StatusEvent): boolean {
  if (!last || event.completed) return true;
  const progressDelta = event.total > 0 ? (event.current - last.current) / event.total : 0;
  return progressDelta >= MIN_PROGRESS_DELTA || event.timestamp - last.timestamp >= MIN_TIME_DELTA_MS;
}

/** `#N <id> <current> / <total> <time> done`. */
function statusLine(event: StatusEvent): string {
  let bytes = '';
  if (event.total !== 0) bytes = ` ${formatBuildkitBytes(event.current)} / ${formatBuildkitBytes(event.total)}`;
  else if (event.current !== 0) bytes = ` ${formatBuildkitBytes(event.current)}`;
  let time = event.durationMs !== undefined && event.durationMs > 10 ? ` ${formatSeconds(event.durationMs)}` : '';
  if (event.completed) time += ' done';
  return `#${event.index} ${event.id}${bytes}${time}\n`;
}

function stepEndLine(
  event: Extract<BuildEvent, { type: 'step-cached' | 'step-done' | 'step-error' | 'step-canceled' }>,
): string {
  if (event.type === 'step-cached') return `#${event.index} CACHED\n`;
  if (event.type === 'step-done') return `#${event.index} DONE ${formatSeconds(event.durationMs)}\n`;
  if (event.type === 'step-canceled') return `#${event.index} CANCELED\n`;
  return `#${event.index} ERROR: ${event.message}\n`;
}

function remember(recentLogs: Map<string, string[]>, digest: string, line: string): void {
  const ring = recentLogs.get(digest) ?? [];
  ring.push(line);
  if (ring.length > ERROR_LOG_LINES) ring.shift();
  recentLogs.set(digest, ring);
}

/** `------` / ` > step:` / its last lines / `------` for each failed step, one write each. */
function failureBlock(failed: PlainState['failed'], recentLogs: Map<string, string[]>): string[] {
  const lines: string[] = [];
  for (const step of failed) {
    lines.push('------\n', ` > ${step.name}:\n`);
    for (const line of recentLogs.get(step.digest) ?? []) lines.push(`${line}\n`);
    lines.push('------\n');
  }
  return lines;
}

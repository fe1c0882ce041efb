import type { BuildEvent, StepRef } from '../build/build-events.js';
import { formatBuildkitBytes as formatBytes } from '../units/format-units.js';
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
  let current: string | undefined;
  let notFirst = false;
  const finished = new Set<string>();
  const lastStatus = new Map<string, { current: number; timestamp: number }>();
  const recentLogs = new Map<string, string[]>();
  const failed: { name: string; digest: string }[] = [];

  const switchTo = (step: StepRef): void => {
    if (current === step.digest) return;
    if (current !== undefined) write(`#${indexOf(current)} ...\n`);
    if (notFirst) write('\n');
    notFirst = true;
    write(`#${step.index} ${step.name}\n`);
    if (options.showDigests) write(`#${step.index} ${step.digest}\n`);
    current = step.digest;
  };
  const indexes = new Map<string, number>();
  const indexOf = (digest: string): number => indexes.get(digest) ?? 0;

  return (event) => {
    if ('digest' in event) indexes.set(event.digest, event.index);
    switch (event.type) {
      case 'base-image-fallback':
        write(`! base image ${event.requested} not available: using ${event.used} (ARG ${event.arg})\n`);
        return;
      case 'step-started':
        finished.delete(event.digest);
        switchTo(event);
        return;
      case 'step-status': {
        const last = lastStatus.get(event.id);
        if (last && !event.completed) {
          const progressDelta = event.total > 0 ? (event.current - last.current) / event.total : 0;
          if (progressDelta < MIN_PROGRESS_DELTA && event.timestamp - last.timestamp < MIN_TIME_DELTA_MS) return;
        }
        lastStatus.set(event.id, { current: event.current, timestamp: event.timestamp });
        switchTo(event);
        let bytes = '';
        if (event.total !== 0) bytes = ` ${formatBytes(event.current)} / ${formatBytes(event.total)}`;
        else if (event.current !== 0) bytes = ` ${formatBytes(event.current)}`;
        let time = event.durationMs !== undefined && event.durationMs > 10 ? ` ${formatSeconds(event.durationMs)}` : '';
        if (event.completed) time += ' done';
        write(`#${event.index} ${event.id}${bytes}${time}\n`);
        return;
      }
      case 'step-warning':
        switchTo(event);
        write(`#${event.index} WARN: ${event.message}\n`);
        return;
      case 'step-log': {
        switchTo(event);
        const line = `${formatLogTime(event.elapsedMs)} ${event.text}`;
        write(`#${event.index} ${line}\n`);
        const ring = recentLogs.get(event.digest) ?? [];
        ring.push(line);
        if (ring.length > ERROR_LOG_LINES) ring.shift();
        recentLogs.set(event.digest, ring);
        return;
      }
      case 'step-cached':
      case 'step-done':
      case 'step-error':
      case 'step-canceled':
        switchTo(event);
        if (event.type === 'step-cached') write(`#${event.index} CACHED\n`);
        else if (event.type === 'step-done') write(`#${event.index} DONE ${formatSeconds(event.durationMs)}\n`);
        else if (event.type === 'step-canceled') write(`#${event.index} CANCELED\n`);
        else {
          write(`#${event.index} ERROR: ${event.message}\n`);
          failed.push({ name: event.name, digest: event.digest });
        }
        finished.add(event.digest);
        current = undefined;
        return;
      case 'build-failed':
        // buildx prints the failing steps' last log lines once the progress display has finished.
        for (const step of failed) {
          write('------\n');
          write(` > ${step.name}:\n`);
          for (const line of recentLogs.get(step.digest) ?? []) write(`${line}\n`);
          write('------\n');
        }
        return;
      default:
        return;
    }
  };
}

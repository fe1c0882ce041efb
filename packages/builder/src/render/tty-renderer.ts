import type { BuildEvent } from '../build/build-events.js';
import { formatLogTime, formatSeconds } from './format.js';

export interface TtyRendererOptions {
  /** Redraw interval for spinners and timers. Default 100 ms. */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** The writable side a TTY renderer needs (a `process.stderr`-like stream). */
export interface TtyStream {
  write(text: string): unknown;
  columns?: number;
}

type State = 'running' | 'done' | 'cached' | 'error' | 'canceled';
interface Step {
  index: number;
  name: string;
  state: State;
  seenAt: number;
  durationMs: number;
  lastLog: string | undefined;
  logs: string[];
  error?: string;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ERROR_LOG_LINES = 10;

/**
 * A compact live view for terminals: a header with elapsed time and progress, one line per running step with a
 * spinner, its elapsed time and its latest log line, redrawn in place with ANSI escapes. Finished steps collapse into
 * one permanent line each (`✔ #5 [2/4] RUN … 1.2s`, `CACHED`, `✘ … ERROR`). On failure the failing steps' last log
 * lines are printed like buildx. The redraw timer stops at `build-finished` / `build-failed`.
 */
export function createTtyRenderer(stream: TtyStream, options: TtyRendererOptions = {}): (event: BuildEvent) => void {
  const now = options.now ?? Date.now;
  const steps = new Map<string, Step>();
  let liveLines = 0;
  let frame = 0;
  let startedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const pending: string[] = [];

  const width = (): number => Math.max(20, (stream.columns ?? 80) - 1);
  const fit = (text: string): string => {
    const w = width();
    return text.length > w ? `${text.slice(0, w - 1)}…` : text;
  };
  /** `<mark> #N <name> <suffix>`, shortening the name (not the duration or status) to fit the terminal. */
  const stepLine = (s: Step, indent = 0): string => {
    const dur = s.state === 'running' ? formatSeconds(now() - s.seenAt) : formatSeconds(s.durationMs);
    const [mark, suffix] = (
      {
        running: [SPINNER[frame % SPINNER.length] ?? '-', dur],
        done: ['✔', dur],
        cached: ['✔', 'CACHED'],
        canceled: ['✘', 'CANCELED'],
        error: ['✘', `ERROR: ${s.error ?? ''}`],
      } satisfies Record<Step['state'], [string, string]>
    )[s.state];
    const head = `${mark} #${s.index} `;
    const room = width() - indent - head.length - suffix.length - 1;
    const name = s.name.length > room && room > 10 ? `${s.name.slice(0, room - 1)}…` : s.name;
    return `${head}${name} ${suffix}`;
  };

  const draw = (final = false): void => {
    let out = liveLines > 0 ? `\x1b[${liveLines}A\r\x1b[J` : '';
    for (const line of pending.splice(0)) out += `${fit(line)}\n`;
    liveLines = 0;
    if (!final) {
      const all = [...steps.values()];
      const running = all.filter((s) => s.state === 'running').sort((a, b) => a.index - b.index);
      const finished = all.length - running.length;
      const elapsed = formatSeconds(now() - (startedAt ?? now()));
      const lines = [`[+] Building ${elapsed} (${finished}/${all.length})`];
      for (const s of running) {
        lines.push(fit(` ${stepLine(s, 1)}`));
        if (s.lastLog !== undefined) lines.push(fit(`    \x1b[2m${s.lastLog}\x1b[22m`.replace(/\t/g, ' ')));
      }
      for (const line of lines) out += `${line}\n`;
      liveLines = lines.length;
    }
    stream.write(out);
  };

  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
  };

  return (event) => {
    startedAt ??= now();
    if (!timer && event.type !== 'build-finished' && event.type !== 'build-failed') {
      timer = setInterval(() => {
        frame++;
        draw();
      }, options.intervalMs ?? 100);
      timer.unref();
    }
    switch (event.type) {
      case 'base-image-fallback':
        pending.push(`! base image ${event.requested} not available: using ${event.used} (ARG ${event.arg})`);
        break;
      case 'step-started': {
        const existing = steps.get(event.digest);
        if (existing) {
          existing.state = 'running';
          existing.seenAt = now();
        } else {
          steps.set(event.digest, {
            index: event.index,
            name: event.name,
            state: 'running',
            seenAt: now(),
            durationMs: 0,
            lastLog: undefined,
            logs: [],
          });
        }
        break;
      }
      case 'step-log': {
        const s = steps.get(event.digest);
        if (!s) break;
        s.lastLog = event.text;
        s.logs.push(`${formatLogTime(event.elapsedMs)} ${event.text}`);
        if (s.logs.length > ERROR_LOG_LINES) s.logs.shift();
        break;
      }
      case 'step-status': {
        const s = steps.get(event.digest);
        if (s && !event.completed) s.lastLog = event.id;
        break;
      }
      case 'step-done':
      case 'step-cached':
      case 'step-error':
      case 'step-canceled': {
        const s = steps.get(event.digest);
        if (!s) break;
        s.state =
          event.type === 'step-done'
            ? 'done'
            : event.type === 'step-cached'
              ? 'cached'
              : event.type === 'step-error'
                ? 'error'
                : 'canceled';
        if (event.type === 'step-done') s.durationMs = event.durationMs;
        if (event.type === 'step-error') s.error = event.message;
        pending.push(stepLine(s));
        break;
      }
      case 'build-finished':
        stop();
        pending.push(
          `[+] Built ${event.imageId.slice(0, 19)} in ${formatSeconds(event.durationMs)} (${steps.size} steps)`,
        );
        draw(true);
        return;
      case 'build-failed':
        stop();
        for (const s of steps.values()) {
          if (s.state !== 'error') continue;
          pending.push('------', ` > ${s.name}:`, ...s.logs, '------');
        }
        draw(true);
        return;
      default:
        return;
    }
    draw();
  };
}

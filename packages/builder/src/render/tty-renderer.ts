import type { BuildEvent } from '../buildkit/build-events.js';
import { formatLogTime, formatSeconds } from './format.js';
import { liveLines, redrawText, stepLine, terminalWidth, failureLogLines } from './tty-layout.js';
import type { TtyFrame, TtyStep, TtyStepState } from './tty-layout.js';

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

const ERROR_LOG_LINES = 10;

/**
 * A compact live view for terminals: a header with elapsed time and progress, one line per running step with a
 * spinner, its elapsed time and its latest log line, redrawn in place with ANSI escapes. Finished steps collapse into
 * one permanent line each (`✔ #5 [2/4] RUN … 1.2s`, `CACHED`, `✘ … ERROR`). On failure the failing steps' last log
 * lines are printed like buildx. The redraw timer stops at `build-finished` / `build-failed`.
 */
export function createTtyRenderer(stream: TtyStream, options: TtyRendererOptions = {}): (event: BuildEvent) => void {
  const now = options.now ?? Date.now;
  const steps = new Map<string, TtyStep>();
  let liveCount = 0;
  let frame = 0;
  let startedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const pending: string[] = [];

  const at = (): TtyFrame => ({ width: terminalWidth(stream.columns), now: now(), frame });
  const draw = (final = false): void => {
    const current = at();
    const live = final ? [] : liveLines([...steps.values()], current, startedAt);
    stream.write(redrawText(liveCount, pending.splice(0), live, current.width));
    liveCount = live.length;
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
    if (event.type === 'build-finished' || event.type === 'build-failed') {
      stop();
      pending.push(...endLines(event, steps));
      draw(true);
      return;
    }
    if (event.type === 'base-image-fallback') {
      pending.push(`! base image ${event.requested} not available: using ${event.used} (ARG ${event.arg})`);
    } else if (isTrackedStepEvent(event)) {
      const ended = applyStepEvent(steps, event, now);
      if (ended) pending.push(stepLine(ended, at()));
    } else {
      return;
    }
    draw();
  };
}

type TrackedStepEvent = Extract<
  BuildEvent,
  { type: 'step-started' | 'step-log' | 'step-status' | 'step-done' | 'step-cached' | 'step-error' | 'step-canceled' }
>;

const TRACKED_STEP_EVENTS = new Set<BuildEvent['type']>([
  'step-started',
  'step-log',
  'step-status',
  'step-done',
  'step-cached',
  'step-error',
  'step-canceled',
] satisfies TrackedStepEvent['type'][]);

function isTrackedStepEvent(event: BuildEvent): event is TrackedStepEvent {
  return TRACKED_STEP_EVENTS.has(event.type);
}

const END_STATES = {
  'step-done': 'done',
  'step-cached': 'cached',
  'step-error': 'error',
  'step-canceled': 'canceled',
} as const satisfies Record<string, TtyStepState>;

/** Updates the step the event is about; returns the step when the event ended it. */
function applyStepEvent(steps: Map<string, TtyStep>, event: TrackedStepEvent, now: () => number): TtyStep | undefined {
  const s = steps.get(event.digest);
  switch (event.type) {
    case 'step-started':
      if (s) {
        s.state = 'running';
        s.seenAt = now();
      } else {
        const step: TtyStep = {
          index: event.index,
          name: event.name,
          state: 'running',
          seenAt: now(),
          durationMs: 0,
          lastLog: undefined,
          logs: [],
        };
        steps.set(event.digest, step);
      }
      return undefined;
    case 'step-log':
      if (!s) return undefined;
      s.lastLog = event.text;
      s.logs.push(`${formatLogTime(event.elapsedMs)} ${event.text}`);
      if (s.logs.length > ERROR_LOG_LINES) s.logs.shift();
      return undefined;
    case 'step-status':
      if (s && !event.completed) s.lastLog = event.id;
      return undefined;
    default:
      if (!s) return undefined;
      s.state = END_STATES[event.type];
      if (event.type === 'step-done') s.durationMs = event.durationMs;
      if (event.type === 'step-error') s.error = event.message;
      return s;
  }
}

function endLines(
  event: Extract<BuildEvent, { type: 'build-finished' | 'build-failed' }>,
  steps: Map<string, TtyStep>,
): string[] {
  if (event.type === 'build-failed') return failureLogLines(steps.values());
  return [`[+] Built ${event.imageId.slice(0, 19)} in ${formatSeconds(event.durationMs)} (${steps.size} steps)`];
}

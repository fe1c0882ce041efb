import { formatSeconds } from './format.js';

export type TtyStepState = 'running' | 'done' | 'cached' | 'error' | 'canceled';

/** What the live view knows about one step. */
export interface TtyStep {
  index: number;
  name: string;
  state: TtyStepState;
  seenAt: number;
  durationMs: number;
  lastLog: string | undefined;
  logs: string[];
  error?: string;
}

/** The moment a line is laid out for: terminal width, clock and spinner frame. */
export interface TtyFrame {
  width: number;
  now: number;
  frame: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Usable width of a terminal with `columns` columns (one left free so lines never wrap). */
export function terminalWidth(columns: number | undefined): number {
  return Math.max(20, (columns ?? 80) - 1);
}

/** Cuts `text` to `width` characters, marking the cut with `…`. */
export function fitLine(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** `<mark> #N <name> <suffix>`, shortening the name (not the duration or status) to fit the terminal. */
export function stepLine(s: TtyStep, at: TtyFrame, indent = 0): string {
  const dur = s.state === 'running' ? formatSeconds(at.now - s.seenAt) : formatSeconds(s.durationMs);
  const [mark, suffix] = (
    {
      running: [SPINNER[at.frame % SPINNER.length] ?? '-', dur],
      done: ['✔', dur],
      cached: ['✔', 'CACHED'],
      canceled: ['✘', 'CANCELED'],
      error: ['✘', `ERROR: ${s.error ?? ''}`],
    } satisfies Record<TtyStepState, [string, string]>
  )[s.state];
  const head = `${mark} #${s.index} `;
  const room = at.width - indent - head.length - suffix.length - 1;
  const name = s.name.length > room && room > 10 ? `${s.name.slice(0, room - 1)}…` : s.name;
  return `${head}${name} ${suffix}`;
}

/** The redrawn part: a progress header, then each running step with its latest log line dimmed. */
export function liveLines(steps: readonly TtyStep[], at: TtyFrame, startedAt: number | undefined): string[] {
  const running = steps.filter((s) => s.state === 'running').sort((a, b) => a.index - b.index);
  const finished = steps.length - running.length;
  const elapsed = formatSeconds(at.now - (startedAt ?? at.now));
  const lines = [`[+] Building ${elapsed} (${finished}/${steps.length})`];
  for (const s of running) {
    lines.push(fitLine(` ${stepLine(s, at, 1)}`, at.width));
    if (s.lastLog !== undefined) lines.push(fitLine(`    \x1b[2m${s.lastLog}\x1b[22m`.replace(/\t/g, ' '), at.width));
  }
  return lines;
}

/** The failing steps' last log lines, printed like buildx once the build failed. */
export function failureLogLines(steps: Iterable<TtyStep>): string[] {
  const lines: string[] = [];
  for (const s of steps) {
    if (s.state !== 'error') continue;
    lines.push('------', ` > ${s.name}:`, ...s.logs, '------');
  }
  return lines;
}

/** Terminal output that erases `erase` live lines, prints `permanent` lines, then the new `live` lines. */
export function redrawText(
  erase: number,
  permanent: readonly string[],
  live: readonly string[],
  width: number,
): string {
  let out = erase > 0 ? `\x1b[${erase}A\r\x1b[J` : '';
  for (const line of permanent) out += `${fitLine(line, width)}\n`;
  for (const line of live) out += `${line}\n`;
  return out;
}

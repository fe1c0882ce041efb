import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildImage, createRenderer } from '@4pass/builder';
import { createPlainRenderer } from '../../../packages/builder/src/render/plain-renderer.js';
import { createTtyRenderer } from '../../../packages/builder/src/render/tty-renderer.js';
import type { BuildEvent } from '@4pass/builder';
import { recorded, replayEngine } from '../buildkit/replay-engine.js';

const context = (name: string): string => fileURLToPath(new URL(`../../fixtures/contexts/${name}`, import.meta.url));

/** A tiny terminal: applies the renderer's "cursor up N + clear to end" redraws and returns the visible lines. */
function terminal(columns = 60): {
  write: (s: string) => void;
  columns: number;
  screen: () => string[];
  writes: () => number;
} {
  let lines: string[] = [];
  let writes = 0;
  return {
    columns,
    write(s: string) {
      writes++;
      let rest = s;
      // eslint-disable-next-line no-control-regex -- matching the renderer's ANSI redraw sequence
      const up = /^\x1b\[(\d+)A\r\x1b\[J/.exec(rest);
      if (up) {
        lines = lines.slice(0, lines.length - Number(up[1]));
        rest = rest.slice(up[0].length);
      }
      lines.push(...rest.split('\n').slice(0, -1));
    },
    screen: () => lines,
    writes: () => writes,
  };
}

async function replay(fixture: string, ctx: string, render: (e: BuildEvent) => void): Promise<void> {
  const engine = replayEngine(recorded(fixture), { images: ['4pass-local/python:3.11-slim'] });
  await buildImage({ engine, contextDir: context(ctx), onEvent: render }).catch(() => undefined);
}

describe('TTY renderer', () => {
  it('collapses finished steps into one line each and leaves no live area at the end', async () => {
    const term = terminal(120);
    await replay('success-multistage', 'multistage', createTtyRenderer(term, { intervalMs: 10_000 }));
    const screen = term.screen();
    expect(screen[0]).toBe(
      '! base image python:3.11-slim not available: using 4pass-local/python:3.11-slim (ARG PYTHON_IMAGE)',
    );
    expect(screen).toContain('✔ #4 [builder 1/4] FROM docker.io/4pass-local/python:3.11-slim CACHED');
    expect(screen).toContain('✔ #9 [stage-1 3/3] RUN python3 /app/app.py 0.2s');
    const long = screen.find((l) => l.startsWith('✔ #7 ')) ?? '';
    // The name is shortened to fit the terminal; the duration stays visible.
    expect(long).toMatch(/^✔ #7 \[builder 4\/4\] RUN echo "compiling app" && python3 .+… \d+\.\ds$/);
    expect(long.length).toBeLessThanOrEqual(119);
    expect(screen.filter((l) => l.startsWith('✔ #'))).toHaveLength(10);
    expect(screen.at(-1)).toMatch(/^\[\+\] Built sha256:[0-9a-f]{12} in \d+\.\ds \(10 steps\)$/);
    expect(screen.some((l) => l.startsWith('[+] Building'))).toBe(false);
    for (const line of screen) expect(line.length).toBeLessThanOrEqual(119);
  });

  it('shows running steps with a spinner and their last log line while the build runs', () => {
    const term = terminal();
    let clock = 1000;
    const render = createTtyRenderer(term, { intervalMs: 10_000, now: () => clock });
    const step = { index: 1, digest: 'd', name: '[1/2] RUN make' };
    render({ type: 'step-started', ...step, startedAt: 0 });
    clock = 3500;
    render({ type: 'step-log', ...step, text: 'compiling foo.c', stream: 'stdout', elapsedMs: 2500 });
    expect(term.screen()).toEqual([
      '[+] Building 2.5s (0/1)',
      ' ⠋ #1 [1/2] RUN make 2.5s',
      '    \x1b[2mcompiling foo.c\x1b[22m',
    ]);
    render({ type: 'step-error', ...step, message: 'exit code: 2', logTail: ['compiling foo.c'] });
    render({ type: 'build-failed', message: 'exit code: 2', step, logTail: ['compiling foo.c'], canceled: false });
    expect(term.screen()).toEqual([
      '✘ #1 [1/2] RUN make ERROR: exit code: 2',
      '------',
      ' > [1/2] RUN make:',
      '2.500 compiling foo.c',
      '------',
    ]);
    const writes = term.writes();
    render({ type: 'build-message', text: 'late' });
    expect(term.writes()).toBe(writes);
  });
});

describe('plain renderer details', () => {
  const a = { index: 1, digest: 'sha256:a', name: '[a 2/2] RUN a' };
  const b = { index: 2, digest: 'sha256:b', name: '[b 2/2] RUN b' };
  it('marks interleaved steps with "#N ..." and can print digests like the 20.10 CLI', () => {
    let out = '';
    const render = createPlainRenderer((s) => (out += s), { showDigests: true });
    render({ type: 'step-started', ...a, startedAt: 0 });
    render({ type: 'step-started', ...b, startedAt: 0 });
    render({ type: 'step-log', ...b, text: 'b1', stream: 'stdout', elapsedMs: 405 });
    render({ type: 'step-log', ...a, text: 'a1', stream: 'stderr', elapsedMs: 12_345 });
    render({
      type: 'step-status',
      ...a,
      id: 'downloading',
      current: 1_500_000,
      total: 3_000_000,
      timestamp: 1,
      durationMs: 2000,
      completed: false,
    });
    render({
      type: 'step-status',
      ...a,
      id: 'downloading',
      current: 1_510_000,
      total: 3_000_000,
      timestamp: 2,
      durationMs: 2001,
      completed: false,
    });
    render({ type: 'step-done', ...a, durationMs: 1250 });
    render({ type: 'step-canceled', ...b });
    expect(out).toBe(
      [
        '#1 [a 2/2] RUN a',
        '#1 sha256:a',
        '#1 ...',
        '',
        '#2 [b 2/2] RUN b',
        '#2 sha256:b',
        '#2 0.405 b1',
        '#2 ...',
        '',
        '#1 [a 2/2] RUN a',
        '#1 sha256:a',
        '#1 12.35 a1',
        '#1 downloading 1.50MB / 3.00MB 2.0s',
        '#1 DONE 1.2s', // Go rounds the tie 1.25 to even
        '',
        '#2 [b 2/2] RUN b',
        '#2 sha256:b',
        '#2 CANCELED',
        '',
      ].join('\n'),
    );
  });

  it('createRenderer picks plain lines when the stream is not a TTY', () => {
    let out = '';
    const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const render = createRenderer(stream);
    render({ type: 'step-started', ...a, startedAt: 0 });
    render({ type: 'step-cached', ...a });
    expect(out).toBe('#1 [a 2/2] RUN a\n#1 CACHED\n');
  });
});

describe('number formatting like Go', () => {
  it('rounds exact ties to even and keeps BuildKit precision', async () => {
    const { goFixed, formatBuildkitBytes: formatBytes } =
      await import('../../../packages/builder/src/units/format-units.js');
    const { formatLogTime } = await import('../../../packages/builder/src/render/format.js');
    expect([goFixed(1.25, 1), goFixed(1.35, 1), goFixed(0.125, 2), goFixed(0.15, 1), goFixed(2.5, 0)]).toEqual([
      '1.2',
      '1.4',
      '0.12',
      '0.1',
      '3',
    ]);
    expect([formatBytes(77), formatBytes(1234), formatBytes(1_982_277), formatBytes(5e9)]).toEqual([
      '77B',
      '1.23kB',
      '1.98MB',
      '5.00GB',
    ]);
    expect([formatLogTime(193), formatLogTime(12_345), formatLogTime(123_456)]).toEqual(['0.193', '12.35', '123.5']);
  });
});

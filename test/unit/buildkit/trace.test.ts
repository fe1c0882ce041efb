import { describe, expect, it } from 'vitest';
import { findBaseImageArgs, localStandIn } from '../../../packages/builder/src/buildkit/base-images.js';
import { TraceTracker } from '../../../packages/builder/src/buildkit/trace-tracker.js';
import { decodeBuildkitTrace } from '../../../packages/builder/src/buildkit/trace-wire.js';
import type { WireStatusResponse, WireVertex } from '../../../packages/builder/src/buildkit/trace-wire.js';
import { recorded } from './replay-engine.js';

const ts = (ms: number): { seconds: number; nanos: number } => ({
  seconds: Math.floor(ms / 1000),
  nanos: (ms % 1000) * 1e6,
});
const vertex = (digest: string, fields: Partial<WireVertex>): WireVertex => ({
  digest,
  inputs: [],
  name: `step ${digest}`,
  cached: false,
  started: null,
  completed: null,
  error: '',
  ...fields,
});
const status = (fields: Partial<WireStatusResponse>): WireStatusResponse => ({
  vertexes: [],
  statuses: [],
  logs: [],
  warnings: [],
  ...fields,
});
const log = (v: string, at: number, text: string | Buffer, stream = 1) => ({
  vertex: v,
  timestamp: ts(at),
  stream,
  msg: typeof text === 'string' ? Buffer.from(text) : text,
});

describe('decodeBuildkitTrace', () => {
  it('decodes a recorded moby.buildkit.trace aux payload', () => {
    const traces = recorded('failing-run').filter((m) => m.id === 'moby.buildkit.trace');
    const decoded = traces.map((m) => decodeBuildkitTrace(m.aux as string));
    const vertexes = decoded.flatMap((d) => d.vertexes);
    const failing = vertexes.find((v) => v.error !== '');
    expect(failing?.name).toBe('[3/3] RUN echo "about to fail"; echo "some error detail" >&2; exit 3');
    expect(failing?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(failing?.started?.seconds).toBeGreaterThan(1.7e9);
    const logs = decoded.flatMap((d) => d.logs).map((l) => Buffer.from(l.msg).toString());
    expect(logs.join('')).toContain('some error detail');
    expect(decoded.flatMap((d) => d.logs).some((l) => l.stream === 2)).toBe(true);
  });
});

describe('TraceTracker (progressui rules)', () => {
  it('numbers steps as they start, splits logs into lines across chunks and UTF-8 boundaries', () => {
    const t = new TraceTracker();
    const euro = Buffer.from('€');
    expect(t.apply(status({ vertexes: [vertex('a', {})] }))).toEqual([]); // not started: nothing shown
    const started = t.apply(
      status({ vertexes: [vertex('b', { started: ts(1000) }), vertex('a', { started: ts(1500) })] }),
    );
    expect(started.map((e) => [e.type, 'index' in e ? e.index : 0, 'digest' in e ? e.digest : ''])).toEqual([
      ['step-started', 1, 'b'],
      ['step-started', 2, 'a'],
    ]);
    const logs = [
      ...t.apply(
        status({
          logs: [log('b', 1250, 'hel'), log('b', 1300, Buffer.concat([Buffer.from('lo '), euro.subarray(0, 1)]))],
        }),
      ),
      ...t.apply(
        status({ logs: [log('b', 1400, Buffer.concat([euro.subarray(1), Buffer.from('\nsecond\nthi')]), 2)] }),
      ),
    ];
    expect(logs.map((e) => (e.type === 'step-log' ? [e.text, e.elapsedMs, e.stream] : e.type))).toEqual([
      ['hello €', 250, 'stdout'],
      ['second', 400, 'stderr'],
    ]);
    const done = t.apply(status({ vertexes: [vertex('b', { started: ts(1000), completed: ts(2234) })] }));
    expect(done).toEqual([
      expect.objectContaining({ type: 'step-log', text: 'thi' }),
      expect.objectContaining({ type: 'step-done', index: 1, durationMs: 1234 }),
    ]);
    // a duplicate without start time must not reset anything, and completion is reported once
    expect(t.apply(status({ vertexes: [vertex('b', {})] }))).toEqual([]);
    expect(t.apply(status({ vertexes: [vertex('b', { started: ts(1000), completed: ts(2234) })] }))).toEqual([]);
  });

  it('reports cached, error (with log tail) and canceled steps; completed ones first by completion time', () => {
    const t = new TraceTracker();
    t.apply(
      status({
        vertexes: [vertex('x', { started: ts(0) }), vertex('y', { started: ts(0) }), vertex('z', { started: ts(0) })],
      }),
    );
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n');
    t.apply(status({ logs: [log('y', 10, `${lines}\n`)] }));
    const events = t.apply(
      status({
        vertexes: [
          vertex('y', { started: ts(0), completed: ts(300), error: 'exit code: 2' }),
          vertex('x', { started: ts(0), completed: ts(200), cached: true }),
          vertex('z', { started: ts(0), completed: ts(400), error: 'failed: context canceled' }),
        ],
      }),
    );
    expect(events.map((e) => e.type)).toEqual(['step-cached', 'step-error', 'step-canceled']);
    const error = events[1];
    expect(error?.type === 'step-error' && error.logTail).toEqual(lines.split('\n').slice(2));
    expect(t.failedStep()).toMatchObject({ step: { name: 'step y' }, message: 'exit code: 2' });
    expect(t.steps().map((s) => [s.index, s.cached, s.error, s.canceled])).toEqual([
      [1, true, undefined, undefined],
      [2, false, 'exit code: 2', undefined],
      [3, false, 'failed: context canceled', true],
    ]);
  });

  it('names the step whose error failed the build, not a cache import that failed first without harm', () => {
    const t = new TraceTracker();
    t.apply(
      status({
        vertexes: [
          vertex('c', {
            name: 'importing cache manifest from 127.0.0.1:5000/app-cache:builder',
            started: ts(0),
            completed: ts(50),
            error: '127.0.0.1:5000/app-cache:builder: not found',
          }),
          vertex('r', {
            name: '[builder 3/4] RUN pip install',
            started: ts(60),
            completed: ts(900),
            error: 'exit code: 1',
          }),
        ],
      }),
    );
    const message = 'executor failed running [/bin/sh -c pip install]: exit code: 1';
    expect(t.failedStep(message)?.step.name).toBe('[builder 3/4] RUN pip install');
    // Without the build's message, the first failure.
    expect(t.failedStep()?.step.name).toBe('importing cache manifest from 127.0.0.1:5000/app-cache:builder');
  });

  it('merges run intervals of a restarted vertex and announces it again', () => {
    const t = new TraceTracker();
    t.apply(status({ vertexes: [vertex('r', { started: ts(0), completed: ts(100) })] }));
    const again = t.apply(status({ vertexes: [vertex('r', { started: ts(500) })] }));
    expect(again).toEqual([expect.objectContaining({ type: 'step-started', index: 1 })]);
    const done = t.apply(status({ vertexes: [vertex('r', { started: ts(500), completed: ts(800) })] }));
    expect(done).toEqual([expect.objectContaining({ type: 'step-done', durationMs: 400 })]);
  });

  it('passes sub-progress statuses with byte counts and durations', () => {
    const t = new TraceTracker();
    t.apply(status({ vertexes: [vertex('e', { started: ts(0) })] }));
    const events = t.apply(
      status({
        statuses: [
          {
            ID: 'exporting layers',
            vertex: 'e',
            name: '',
            current: 10,
            total: 100,
            timestamp: ts(50),
            started: ts(0),
            completed: null,
          },
          {
            ID: 'exporting layers',
            vertex: 'e',
            name: '',
            current: 100,
            total: 100,
            timestamp: ts(90),
            started: ts(0),
            completed: ts(90),
          },
          {
            ID: 'orphan',
            vertex: 'nope',
            name: '',
            current: 0,
            total: 0,
            timestamp: null,
            started: null,
            completed: null,
          },
        ],
      }),
    );
    expect(events).toEqual([
      expect.objectContaining({
        type: 'step-status',
        id: 'exporting layers',
        current: 100,
        completed: true,
        durationMs: 90,
      }),
    ]);
  });
});

describe('findBaseImageArgs', () => {
  it('finds ARG defaults before the first FROM that a FROM uses', () => {
    const dockerfile = [
      '# comment',
      'ARG PYTHON_IMAGE=python:3.11-slim',
      'ARG NODE_IMAGE="node:20-slim" UNUSED=x',
      'ARG NO_DEFAULT',
      'FROM --platform=$BUILDPLATFORM ${PYTHON_IMAGE} AS build',
      'ARG LATE=ignored:1',
      'from \\',
      '  $NODE_IMAGE',
      'FROM ${LATE}',
    ].join('\n');
    expect(findBaseImageArgs(dockerfile)).toEqual([
      { arg: 'PYTHON_IMAGE', defaultValue: 'python:3.11-slim' },
      { arg: 'NODE_IMAGE', defaultValue: 'node:20-slim' },
    ]);
  });

  it('maps official names to local stand-ins', () => {
    expect(localStandIn('python:3.11-slim')).toBe('4pass-local/python:3.11-slim');
    expect(localStandIn('docker.io/library/node:20-slim')).toBe('4pass-local/node:20-slim');
    expect(localStandIn('node:20-slim', { 'node:20-slim': 'corp/node' })).toBe('corp/node');
  });
});

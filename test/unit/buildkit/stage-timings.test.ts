import { describe, expect, it } from 'vitest';
import { stageTimings } from '../../../packages/builder/src/buildkit/stage-timings.js';
import type { StepSummary } from '../../../packages/builder/src/buildkit/trace-tracker.js';

const step = (name: string, cached: boolean, durationMs = 0): StepSummary => ({
  index: 0,
  digest: `sha256:${name}`,
  name,
  cached,
  durationMs,
});

describe('stageTimings', () => {
  it('groups steps by Dockerfile stage: cached when every step was, the time of what ran otherwise', () => {
    const timings = stageTimings([
      step('[internal] load build definition from worker.Dockerfile', false, 30),
      step('[builder 1/3] FROM docker.io/library/python:3.11-slim', false, 5),
      step('[builder 2/3] COPY worker/requirements.txt /tmp/requirements.txt', true),
      step('[builder 3/3] RUN python3 -m venv /opt/venv', true),
      step('[optimizer 1/2] FROM docker.io/library/node:20-slim', false, 4),
      step('[optimizer 2/2] RUN node /opt/4pass/optimizer.cjs optimize /opt/venv', false, 2500),
      step('[compile-app 2/2] RUN python3 -m compileall', false, 700),
      step('[compile-app 1/2] COPY worker/worker /app/worker', false, 300),
      step('exporting to image', false, 200),
    ]);
    expect(timings).toEqual([
      { stage: 'builder', cached: true, stepsRun: 0, stepsCached: 3, durationMs: 0 },
      { stage: 'optimizer', cached: false, stepsRun: 1, stepsCached: 1, durationMs: 2500 },
      { stage: 'compile-app', cached: false, stepsRun: 2, stepsCached: 0, durationMs: 1000 },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { createPipelineRenderer, type BuildEvent, type PipelineEvent } from '@4pass/builder';

function render(events: PipelineEvent[], options: { color?: boolean } = {}) {
  let out = '';
  const builds: BuildEvent[][] = [];
  const stream = { write: (s: string) => ((out += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
  const renderer = createPipelineRenderer(stream, {
    ...options,
    buildRenderer: () => {
      const seen: BuildEvent[] = [];
      builds.push(seen);
      return (e) => seen.push(e);
    },
  });
  for (const e of events) renderer(e);
  return { out, builds };
}

const step: BuildEvent = { type: 'step-cached', step: { id: 'd1', name: '[1/2] FROM x' } } as unknown as BuildEvent;

describe('createPipelineRenderer (what pnpm build:images prints)', () => {
  it('prints tags, image headers and each stage with its duration and detail', () => {
    const { out } = render([
      { type: 'tags', tags: ['sha-abc1234', 'latest'], sha: 'abc1234' },
      { type: 'image-started', image: 'api', engine: 'unix:///var/run/docker.sock' },
      { type: 'stage-started', image: 'api', stage: 'build' },
      { type: 'stage-done', image: 'api', stage: 'build', durationMs: 12_345, detail: '0123456789ab' },
      { type: 'stage-done', image: 'api', stage: 'inspect', durationMs: 800 },
    ]);
    expect(out).toBe(
      [
        'tags: sha-abc1234, latest',
        '',
        '==> api',
        '--> api: build',
        '--> api: build done in 12.3s: 0123456789ab',
        '--> api: inspect done in 0.8s',
        '',
      ].join('\n'),
    );
  });

  it('bolds image headers only with color, and shows the tag warning', () => {
    const { out } = render(
      [
        { type: 'tags', tags: ['latest'], warning: 'no commit sha' },
        { type: 'image-started', image: 'api', engine: 'x' },
      ],
      { color: true },
    );
    expect(out).toBe('tags: latest (no commit sha)\n\n\x1b[1m==> api\x1b[22m\n');
  });

  it('hands build progress to a fresh build renderer per build, the worker pipeline’s one build included', () => {
    const { out, builds } = render([
      { type: 'stage-started', image: 'api', stage: 'build' },
      { type: 'build', image: 'api', event: step },
      { type: 'stage-started', image: 'worker', stage: 'build' },
      { type: 'worker', image: 'worker', event: { type: 'stage-started', stage: 'build' } },
      { type: 'worker', image: 'worker', event: { type: 'build', stage: 'build', event: step } },
      {
        type: 'worker',
        image: 'worker',
        event: { type: 'stage-done', stage: 'build', durationMs: 2000, detail: '7 stages cached' },
      },
    ]);
    expect(builds.map((b) => b.length)).toEqual([1, 0, 1]);
    expect(out).toContain('    worker/build…\n');
    expect(out).toContain('    worker/build done in 2.0s: 7 stages cached\n');
  });

  it('prints pushed tags, retries, failures and a skipped push; never the image report', () => {
    const { out } = render([
      {
        type: 'push',
        image: 'api',
        event: {
          type: 'tag-pushed',
          tag: 'sha-abc1234',
          digest: 'sha256:aa',
          layers: { pushed: 1, existing: 0, mounted: 0, total: 1 },
        },
      },
      {
        type: 'push',
        image: 'api',
        event: { type: 'tag-pointed', tag: 'latest', digest: 'sha256:aa', via: 'registry-api' },
      },
      {
        type: 'push',
        image: 'api',
        event: { type: 'retry', operation: 'push', attempt: 1, delayMs: 1000, reason: 'HTTP 503' },
      },
      { type: 'image-failed', image: 'worker', stage: 'push', error: new Error('registry said no') },
      { type: 'push-skipped', reason: 'the gate failed: nothing was pushed' },
      { type: 'image-done', image: 'api', report: {} as never },
    ]);
    expect(out).toBe(
      [
        '    pushed sha-abc1234 → sha256:aa',
        '    pushed latest → sha256:aa',
        '    retrying push in 1000 ms: HTTP 503',
        '--> worker: push FAILED',
        'registry said no',
        'push skipped: the gate failed: nothing was pushed',
        '',
      ].join('\n'),
    );
  });
});

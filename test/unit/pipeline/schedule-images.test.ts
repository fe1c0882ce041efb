import { describe, expect, it } from 'vitest';
import { EngineUnavailableError, type PipelineEvent } from '@4pass/builder';
import {
  scheduleImages,
  type ImageStages,
  type ScheduleOptions,
  type StageContext,
} from '../../../packages/builder/src/pipeline/schedule-images.js';
import { addressOnlyEngine as fakeEngine } from './fake-engine.js';

interface Types {
  image: { name: string; fail?: 'build' | 'inspect' | 'startup' | 'budgets' | 'gate' | 'push' };
  built: string;
  facts: string;
  startup: string;
  baseline: undefined;
  evaluated: { name: string; pass: boolean };
  report: { pass: boolean; images: string[]; errors: string[] };
  pushed: string;
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Rejects when `signal` aborts, like every real stage. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  ]);
}

/** Stages that log `<stage> <image> @<engine> start|end` and honour `image.fail`; `hold` pauses a stage. */
function recordingStages(hold: Partial<Record<string, Promise<void>>> = {}) {
  const log: string[] = [];
  const active = new Map<string, number>();
  let maxPerEngine = 0;
  const step = async (stage: string, image: Types['image'], at: StageContext, value: string) => {
    log.push(`${stage} ${image.name} @${at.engine.address} start`);
    if (stage === 'build') {
      const n = (active.get(at.engine.address) ?? 0) + 1;
      active.set(at.engine.address, n);
      maxPerEngine = Math.max(maxPerEngine, n);
    }
    try {
      await tick();
      const wait = hold[`${stage} ${image.name}`];
      if (wait) await abortable(wait, at.signal);
      at.signal.throwIfAborted();
      if (image.fail === stage) throw new Error(`${stage} of ${image.name} broke`);
      log.push(`${stage} ${image.name} @${at.engine.address} end`);
      at.describe(`${value} done`);
      return value;
    } finally {
      if (stage === 'build') active.set(at.engine.address, (active.get(at.engine.address) ?? 1) - 1);
    }
  };
  const stages: ImageStages<Types> = {
    build: (image, at) => step('build', image, at, `id-${image.name}`),
    inspect: (image, built, at) => step('inspect', image, at, `facts-${built}`),
    startup: { when: (image) => image.name !== 'nostartup', run: (image, _b, at) => step('startup', image, at, 'up') },
    budgets: (run, at) => {
      log.push(`budgets ${run.image.name} @${at.engine.address}`);
      if (run.image.fail === 'budgets') throw new Error('budgets broke');
      return { name: run.image.name, pass: run.image.fail !== 'gate' };
    },
    report: (evaluated, errors) => ({
      pass: evaluated.every((e) => e.pass) && errors.length === 0,
      images: evaluated.map((e) => e.name),
      errors: errors.map((e) => `${e.name}:${e.stage}:${e.message}`),
    }),
    push: (image, built, _report, at) => step('push', image, at, `pushed-${built}`),
  };
  return { log, stages, maxPerEngine: () => maxPerEngine };
}

async function schedule(options: Partial<ScheduleOptions<Types>> & Pick<ScheduleOptions<Types>, 'images' | 'stages'>) {
  const events: PipelineEvent[] = [];
  const result = await scheduleImages<Types>({
    engines: [fakeEngine('A')],
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { result, events };
}

const at = (log: string[], line: string) => {
  const i = log.indexOf(line);
  expect(i, `${line} in\n${log.join('\n')}`).toBeGreaterThanOrEqual(0);
  return i;
};

describe('scheduleImages on one engine', () => {
  it('inspects image N while image N+1 builds, and starts containers only after every inspection', async () => {
    const buildB = deferred();
    const noOverlap = new Promise<void>((_, reject) => setTimeout(() => reject(new Error('b never started')), 3000));
    const { log, stages } = recordingStages({ 'inspect a': Promise.race([buildB.promise, noOverlap]) });
    const build = stages.build;
    stages.build = (image, ctx) => {
      if (image.name === 'b') buildB.resolve();
      return build(image, ctx);
    };
    const { result } = await schedule({ images: [{ name: 'a' }, { name: 'b' }], stages });
    expect(result.report).toEqual({ pass: true, images: ['a', 'b'], errors: [] });
    // a's inspection was still running when b's build started (it waited for it).
    expect(at(log, 'build b @A start')).toBeLessThan(at(log, 'inspect a @A end'));
    // Start-up runs on a quiet engine: after every build and inspection.
    const firstStartup = at(log, 'startup a @A start');
    for (const line of ['build b @A end', 'inspect a @A end', 'inspect b @A end'])
      expect(at(log, line)).toBeLessThan(firstStartup);
    expect(at(log, 'startup a @A end')).toBeLessThan(at(log, 'startup b @A start'));
    expect(at(log, 'budgets a @A')).toBeLessThan(at(log, 'startup b @A start'));
    // Pushes after the gate, one at a time, in config order.
    expect(at(log, 'budgets b @A')).toBeLessThan(at(log, 'push a @A start'));
    expect(at(log, 'push a @A end')).toBeLessThan(at(log, 'push b @A start'));
    expect(result.runs.map((r) => r.push)).toEqual([
      { status: 'pushed', value: 'pushed-id-a' },
      { status: 'pushed', value: 'pushed-id-b' },
    ]);
  });

  it('records every stage with events and durations; skips start-up where it does not apply', async () => {
    const { stages } = recordingStages();
    const { result, events } = await schedule({ images: [{ name: 'nostartup' }], stages });
    const [run] = result.runs;
    expect(Object.keys(run?.durations ?? {})).toEqual(['build', 'inspect', 'budgets', 'push']);
    expect(events.filter((e) => e.type === 'stage-done').map((e) => e.type === 'stage-done' && e.detail)).toEqual([
      'id-nostartup done',
      'facts-id-nostartup done',
      'pushed-id-nostartup done',
    ]);
    expect(events[0]).toEqual({ type: 'image-started', image: 'nostartup', engine: 'A' });
  });

  it('one image failing does not stop the others; the failure is in the report, with its stage', async () => {
    const { log, stages } = recordingStages();
    const images = [{ name: 'a', fail: 'build' as const }, { name: 'b', fail: 'inspect' as const }, { name: 'c' }];
    const { result, events } = await schedule({ images, stages });
    expect(result.report.images).toEqual(['c']);
    expect(result.report.errors).toEqual(['a:build:build of a broke', 'b:inspect:inspect of b broke']);
    expect(result.runs.map((r) => r.stopped?.stage)).toEqual(['build', 'inspect', undefined]);
    expect(log).toContain('startup c @A end');
    expect(events).toContainEqual(expect.objectContaining({ type: 'image-failed', image: 'a', stage: 'build' }));
    // The gate failed, so nothing was pushed.
    expect(log.filter((l) => l.startsWith('push'))).toEqual([]);
  });

  it('a failed gate blocks every push', async () => {
    const { log, stages } = recordingStages();
    const { result, events } = await schedule({ images: [{ name: 'a' }, { name: 'b', fail: 'gate' }], stages });
    expect(result.report.pass).toBe(false);
    expect(log.filter((l) => l.startsWith('push'))).toEqual([]);
    expect(result.runs.map((r) => r.push)).toEqual([
      { status: 'skipped', reason: 'the gate failed: nothing was pushed' },
      { status: 'skipped', reason: 'the gate failed: nothing was pushed' },
    ]);
    expect(events).toContainEqual({ type: 'push-skipped', reason: 'the gate failed: nothing was pushed' });
  });

  it('a failed push stops the pushes after it and is returned, never thrown; the report stays', async () => {
    const { stages } = recordingStages();
    const images = [{ name: 'a' }, { name: 'b', fail: 'push' as const }, { name: 'c' }];
    const { result, events } = await schedule({ images, stages });
    expect(result.report.pass).toBe(true);
    const [a, b, c] = result.runs.map((r) => r.push);
    expect(a).toEqual({ status: 'pushed', value: 'pushed-id-a' });
    expect(b).toMatchObject({ status: 'failed', interrupted: false, error: { message: 'push of b broke' } });
    expect(c).toEqual({ status: 'skipped', reason: 'the push of b failed' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'image-failed', image: 'b', stage: 'push' }));
  });
});

describe('scheduleImages interrupted', () => {
  it('an abort during inspection stops everything at the next await: nothing starts, nothing is pushed', async () => {
    const controller = new AbortController();
    const never = new Promise<void>(() => undefined);
    const { log, stages } = recordingStages({ 'inspect a': never, 'build b': never });
    const build = stages.build;
    stages.build = (image, ctx) => {
      if (image.name === 'b') setTimeout(() => controller.abort(new Error('interrupted')), 20);
      return build(image, ctx);
    };
    const images = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const { result } = await schedule({ images, stages, signal: controller.signal });
    expect(result.interrupted).toEqual({
      stage: 'inspect',
      inFlight: expect.arrayContaining([
        { image: 'a', stage: 'inspect' },
        { image: 'b', stage: 'build' },
      ]),
    });
    expect(log.some((l) => /^(startup|push) |^build c /.test(l))).toBe(false);
    expect(result.runs.map((r) => r.push)).toEqual(
      images.map(() => ({ status: 'skipped', reason: 'interrupted before the push: nothing was pushed' })),
    );
    expect(result.report.pass).toBe(false);
    expect(result.errors.map((e) => `${e.name}:${e.stage}`)).toEqual(['a:inspect', 'b:build', 'c:build']);
  });

  it('an abort during a push says so; the images after it are not pushed', async () => {
    const controller = new AbortController();
    const { stages } = recordingStages({ 'push b': new Promise<void>(() => undefined) });
    const push = stages.push;
    stages.push = (image, built, report, ctx) => {
      if (image.name === 'b') setTimeout(() => controller.abort(new Error('interrupted')), 20);
      return push!(image, built, report, ctx);
    };
    const { result } = await schedule({
      images: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      stages,
      signal: controller.signal,
    });
    expect(result.interrupted).toEqual({ stage: 'push', inFlight: [{ image: 'b', stage: 'push' }] });
    expect(result.runs.map((r) => r.push?.status)).toEqual(['pushed', 'failed', 'skipped']);
    expect(result.runs[1]?.push).toMatchObject({ interrupted: true });
  });

  it('an already aborted signal builds nothing', async () => {
    const { log, stages } = recordingStages();
    const { result } = await schedule({ images: [{ name: 'a' }], stages, signal: AbortSignal.abort() });
    expect(log).toEqual([]);
    expect(result.interrupted).toEqual({ stage: 'build', inFlight: [] });
  });
});

describe('scheduleImages on an engine pool', () => {
  it('spreads images over the engines; each image is inspected, started and pushed where it was built', async () => {
    const slowB = deferred();
    const { log, stages, maxPerEngine } = recordingStages({ 'build b': slowB.promise });
    const startup = stages.startup!;
    stages.startup = {
      when: startup.when,
      run: (image, built, ctx, facts) => {
        if (image.name === 'a') setTimeout(() => slowB.resolve(), 10);
        return startup.run(image, built, ctx, facts);
      },
    };
    const { result } = await schedule({
      images: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      engines: [fakeEngine('A'), fakeEngine('B')],
      stages,
    });
    expect(Object.fromEntries(result.runs.map((r) => [r.image.name, r.engine?.address]))).toEqual({
      a: 'A',
      b: 'B',
      c: 'A',
    });
    for (const run of result.runs) {
      const engine = run.engine?.address;
      const mine = log.filter((l) => l.split(' ')[1] === run.image.name);
      expect(mine.every((l) => l.includes(`@${engine}`))).toBe(true);
      expect(Object.keys(run.durations)).toEqual(['build', 'inspect', 'startup', 'budgets', 'push']);
    }
    // Engine A measured its images while B was still building: start-up waits only for its own engine.
    expect(at(log, 'startup a @A start')).toBeLessThan(at(log, 'build b @B end'));
    expect(at(log, 'inspect c @A end')).toBeLessThan(at(log, 'startup a @A start'));
    expect(maxPerEngine()).toBe(1);
    expect(result.report.pass).toBe(true);
  });

  it('runs up to perEngine builds at once on one engine', async () => {
    const { stages, maxPerEngine } = recordingStages();
    await schedule({ images: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], stages, perEngine: 2 });
    expect(maxPerEngine()).toBe(2);
  });

  it('an engine that fails as an engine fails the image it took and takes no more; the others go on', async () => {
    const { stages } = recordingStages();
    const build = stages.build;
    stages.build = async (image, at) => {
      if (at.engine.address === 'B') throw new EngineUnavailableError('B', 'engine b');
      return build(image, at);
    };
    const { result } = await schedule({
      images: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }],
      engines: [fakeEngine('A'), fakeEngine('B')],
      stages,
    });
    const where = Object.fromEntries(result.runs.map((r) => [r.image.name, r.engine?.address]));
    expect(where).toEqual({ a: 'A', b: 'B', c: 'A', d: 'A' });
    expect(result.errors).toEqual([
      { name: 'b', stage: 'build', message: expect.stringContaining('no Docker engine answers at B (from engine b)') },
    ]);
    expect(result.report.images).toEqual(['a', 'c', 'd']);
  });

  it('when every engine fails, the images nobody took are reported as not built', async () => {
    const { stages } = recordingStages();
    stages.build = async (_image, at) => {
      throw new Error('wrapped', { cause: new EngineUnavailableError(at.engine.address, 'test') });
    };
    const { result } = await schedule({
      images: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      engines: [fakeEngine('A'), fakeEngine('B')],
      stages,
    });
    expect(result.errors.map((e) => `${e.name}: ${e.message}`)).toEqual([
      'a: wrapped',
      'b: wrapped',
      'c: not built: every engine of the pool failed',
    ]);
    expect(result.report.pass).toBe(false);
  });

  it('refuses an empty pool', async () => {
    const { stages } = recordingStages();
    await expect(schedule({ images: [{ name: 'a' }], stages, engines: [] })).rejects.toThrow(RangeError);
  });
});

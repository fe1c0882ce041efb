import type { Engine } from '../engine/engine.js';
import { engineFailure } from '../engine/engine-errors.js';
import type { ImageError } from '../report/gate-report.js';
import { PIPELINE_STAGES, type PipelineEvent, type PipelineStage } from './pipeline-events.js';

/**
 * The one place that decides what runs when. Per engine of the pool, images are built one at a time (`perEngine`);
 * each image's inspection runs while that engine builds the next image; start-up runs begin only once every build
 * and inspection on that engine has finished (measured on a quiet engine), one image at a time; budgets follow each
 * start-up. One image failing never stops the others; an engine that fails as an engine (unreachable, TLS, SSH)
 * fails the image it took and takes no more. The gate (`report`) sees every image; pushes run only when it
 * passed, one image at a time in config order, and the first failed push stops the rest. An abort stops every stage
 * at its next await; the result says which stage was interrupted.
 */

/** What a stage gets besides its inputs. */
export interface StageContext {
  /** The engine that built the image: every later stage of that image runs on it. */
  readonly engine: Engine;
  readonly signal: AbortSignal;
  /** Sets the text of this stage's `stage-done` event (e.g. `182.3 MB, 12 layers`). */
  describe(detail: string): void;
  /** Sends a pipeline event (build or push progress, image-done). */
  emit(event: PipelineEvent): void;
}

/** The value types flowing through the stages; the scheduler never looks inside them. */
export interface StageTypes {
  image: { readonly name: string };
  built: unknown;
  facts: unknown;
  startup: unknown;
  baseline: unknown;
  evaluated: unknown;
  report: { readonly pass: boolean };
  pushed: unknown;
}

/** A push: done, failed (the error; `interrupted` when the run was aborted), or not attempted. */
export type PushOutcome<P> =
  | { status: 'pushed'; value: P }
  | { status: 'failed'; error: Error; interrupted: boolean }
  | { status: 'skipped'; reason: string };

/** One image's way through the stages. */
export interface ImageRun<T extends StageTypes> {
  image: T['image'];
  /** Position in the configured order. */
  index: number;
  /** The engine that built it (unset when its build never started). */
  engine?: Engine;
  built?: T['built'];
  facts?: T['facts'];
  startup?: T['startup'];
  baseline?: T['baseline'];
  evaluated?: T['evaluated'];
  push?: PushOutcome<T['pushed']>;
  /** Milliseconds per finished stage. */
  durations: Partial<Record<PipelineStage, number>>;
  /** The gate stage that failed or was interrupted. */
  stopped?: { stage: PipelineStage; error: Error; interrupted: boolean };
}

/** An image with everything the budgets stage needs. */
export type MeasuredRun<T extends StageTypes> = ImageRun<T> & { engine: Engine; built: T['built']; facts: T['facts'] };

export interface ImageStages<T extends StageTypes> {
  build(image: T['image'], at: StageContext): Promise<T['built']>;
  /** Runs while the same engine builds the next image. */
  inspect(image: T['image'], built: T['built'], at: StageContext): Promise<T['facts']>;
  /** Only for images where `when` holds; after every build and inspection on the image's engine finished. */
  startup?: {
    when(image: T['image']): boolean;
    /** `facts` is the image's inspection (it always finished first). */
    run(image: T['image'], built: T['built'], at: StageContext, facts: T['facts']): Promise<T['startup']>;
  };
  /** What the image is compared with (e.g. the same image in the registry); before its budgets. */
  baseline?(image: T['image'], facts: T['facts'], at: StageContext): Promise<T['baseline']>;
  /** Budget and structure evaluation (pure); it has no stage events of its own. */
  budgets(run: MeasuredRun<T>, at: StageContext): T['evaluated'] | Promise<T['evaluated']>;
  /** The gate over every evaluated image (config order) and every error: pushes run only when it passed. */
  report(evaluated: T['evaluated'][], errors: ImageError[]): T['report'];
  /**
   * Pushes one image, on the engine that built it, with the gate's report (whose verdict let it through) and its
   * inspection (`facts`, when it has one: the SBOM stored beside it).
   */
  push?(
    image: T['image'],
    built: T['built'],
    report: T['report'],
    at: StageContext,
    facts?: T['facts'],
  ): Promise<T['pushed']>;
}

export interface ScheduleOptions<T extends StageTypes> {
  images: readonly T['image'][];
  /** The engine pool (at least one). Each image is built, measured and pushed on one engine. */
  engines: readonly Engine[];
  /** Images built at the same time on one engine. Default 1. */
  perEngine?: number;
  stages: ImageStages<T>;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  /** Clock in milliseconds (tests). Default `performance.now`. */
  now?: () => number;
}

/** Where an aborted run was: the furthest stage in flight, and every stage in flight at that moment. */
export interface Interruption {
  stage: PipelineStage;
  inFlight: { image: string; stage: PipelineStage }[];
}

export interface ScheduleResult<T extends StageTypes> {
  /** Every image, in the configured order. */
  runs: ImageRun<T>[];
  /** Gate errors (build, inspect, startup, budgets failures; interrupted images), as given to `report`. */
  errors: ImageError[];
  report: T['report'];
  interrupted?: Interruption;
}

interface Scheduler<T extends StageTypes> {
  options: ScheduleOptions<T>;
  signal: AbortSignal;
  now: () => number;
  emit: (event: PipelineEvent) => void;
  runs: ImageRun<T>[];
  queue: ImageRun<T>[];
  errors: ImageError[];
  inFlight: Map<ImageRun<T>, PipelineStage>;
  /** Set by the abort: what was in flight then; `stage` is filled in by the first stage that refused to start. */
  abort?: { stage?: PipelineStage; inFlight: Interruption['inFlight'] };
  lastStarted?: PipelineStage;
}

type Attempt<V> = { ok: true; value: V } | { ok: false };

/**
 * Runs every image through the stages on the engine pool; see the module comment for what overlaps with what.
 * Never throws for a stage failure (it is recorded in the run and in `errors`) nor for an abort (see `interrupted`).
 * @throws {RangeError} when `engines` is empty or `perEngine` is not a positive integer.
 */
export async function scheduleImages<T extends StageTypes>(options: ScheduleOptions<T>): Promise<ScheduleResult<T>> {
  const perEngine = options.perEngine ?? 1;
  if (options.engines.length === 0) throw new RangeError('scheduleImages needs at least one engine');
  if (!Number.isInteger(perEngine) || perEngine < 1) throw new RangeError(`perEngine must be >= 1, got ${perEngine}`);
  const s = createScheduler(options);
  const onAbort = () => noteInterrupt(s);
  if (s.signal.aborted) onAbort();
  s.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(options.engines.map((engine) => runEngine(s, engine, perEngine)));
    for (const run of s.queue.splice(0)) stop(s, run, 'build', new Error('not built: every engine of the pool failed'));
    recordInterrupted(s);
    const evaluated = s.runs.filter((r) => !r.stopped && 'evaluated' in r).map((r) => r.evaluated);
    const report = options.stages.report(evaluated, [...s.errors]);
    await pushAll(s, report);
    const interrupted = s.abort && { stage: s.abort.stage ?? s.lastStarted ?? 'build', inFlight: s.abort.inFlight };
    return { runs: s.runs, errors: s.errors, report, ...(interrupted && { interrupted }) };
  } finally {
    s.signal.removeEventListener('abort', onAbort);
  }
}

function createScheduler<T extends StageTypes>(options: ScheduleOptions<T>): Scheduler<T> {
  const runs = options.images.map((image, index): ImageRun<T> => ({ image, index, durations: {} }));
  return {
    options,
    signal: options.signal ?? new AbortController().signal,
    now: options.now ?? (() => performance.now()),
    emit: (event) => options.onEvent?.(event),
    runs,
    queue: [...runs],
    errors: [],
    inFlight: new Map(),
  };
}

/** One engine: its build lanes take images from the shared queue; then its start-up runs and budgets, in order. */
async function runEngine<T extends StageTypes>(s: Scheduler<T>, engine: Engine, lanes: number): Promise<void> {
  const mine: ImageRun<T>[] = [];
  const inspections: Promise<void>[] = [];
  await Promise.all(Array.from({ length: lanes }, () => buildLane(s, engine, mine, inspections)));
  await Promise.all(inspections);
  for (const run of mine.sort((a, b) => a.index - b.index)) await measure(s, run);
}

async function buildLane<T extends StageTypes>(
  s: Scheduler<T>,
  engine: Engine,
  mine: ImageRun<T>[],
  inspections: Promise<void>[],
): Promise<void> {
  const { stages } = s.options;
  for (let run = s.queue.shift(); run; run = s.queue.shift()) {
    if (s.signal.aborted) {
      stop(s, run, 'build', s.signal.reason);
      continue;
    }
    run.engine = engine;
    mine.push(run);
    s.emit({ type: 'image-started', image: run.image.name, engine: engine.address });
    const built = await attempt(s, run, 'build', (at) => stages.build(run.image, at));
    // An engine that does not answer (or whose TLS/SSH fails) takes no more images; the other engines go on.
    if (!built.ok && engineFailure(run.stopped?.error)) return;
    if (!built.ok) continue;
    run.built = built.value;
    const inspected = attempt(s, run, 'inspect', (at) => stages.inspect(run.image, built.value, at));
    inspections.push(inspected.then((facts) => void (facts.ok && (run.facts = facts.value))));
  }
}

async function measure<T extends StageTypes>(s: Scheduler<T>, run: ImageRun<T>): Promise<void> {
  if (run.stopped) return;
  const { startup, budgets } = s.options.stages;
  if (startup?.when(run.image)) {
    const measured = await attempt(s, run, 'startup', (at) => startup.run(run.image, run.built, at, run.facts));
    if (!measured.ok) return;
    run.startup = measured.value;
  }
  const { baseline } = s.options.stages;
  if (baseline) {
    const compared = await attempt(s, run, 'baseline', (at) => baseline(run.image, run.facts, at));
    if (!compared.ok) return;
    run.baseline = compared.value;
  }
  const evaluated = await attempt(s, run, 'budgets', async (at) => budgets(run as MeasuredRun<T>, at), false);
  if (evaluated.ok) run.evaluated = evaluated.value;
}

/** After the gate passed: one image at a time, in config order; the first failure stops the rest. */
async function pushAll<T extends StageTypes>(s: Scheduler<T>, report: T['report']): Promise<void> {
  const push = s.options.stages.push;
  if (!push) return;
  let skip: string | undefined;
  if (s.signal.aborted) {
    skip = 'interrupted before the push: nothing was pushed';
    noteStage(s, 'push');
  } else if (!report.pass) {
    skip = 'the gate failed: nothing was pushed';
    s.emit({ type: 'push-skipped', reason: skip });
  }
  for (const run of s.runs) {
    if (skip !== undefined || run.stopped) {
      run.push = { status: 'skipped', reason: skip ?? 'not built' };
      continue;
    }
    try {
      s.signal.throwIfAborted();
      run.push = {
        status: 'pushed',
        value: await timed(s, run, 'push', (at) => push(run.image, run.built, report, at, run.facts)),
      };
    } catch (error) {
      const interrupted = s.signal.aborted;
      run.push = { status: 'failed', error: toError(error), interrupted };
      if (interrupted) noteStage(s, 'push');
      else s.emit({ type: 'image-failed', image: run.image.name, stage: 'push', error: toError(error) });
      skip = interrupted ? 'interrupted' : `the push of ${run.image.name} failed`;
    }
  }
}

async function attempt<T extends StageTypes, V>(
  s: Scheduler<T>,
  run: ImageRun<T>,
  stage: PipelineStage,
  fn: (at: StageContext) => Promise<V>,
  events = true,
): Promise<Attempt<V>> {
  try {
    s.signal.throwIfAborted();
    return { ok: true, value: await timed(s, run, stage, fn, events) };
  } catch (error) {
    stop(s, run, stage, error);
    return { ok: false };
  }
}

/** Runs one stage of one image on its engine: started/done events, duration, in-flight bookkeeping. */
async function timed<T extends StageTypes, V>(
  s: Scheduler<T>,
  run: ImageRun<T>,
  stage: PipelineStage,
  fn: (at: StageContext) => Promise<V>,
  events = true,
): Promise<V> {
  const engine = run.engine;
  if (!engine) throw new Error(`internal: ${run.image.name} has no engine at ${stage}`);
  let detail: string | undefined;
  const at: StageContext = { engine, signal: s.signal, describe: (d) => void (detail = d), emit: s.emit };
  if (events) s.emit({ type: 'stage-started', image: run.image.name, stage });
  s.inFlight.set(run, stage);
  s.lastStarted = stage;
  const started = s.now();
  let value: V;
  try {
    value = await fn(at);
  } finally {
    s.inFlight.delete(run);
  }
  const durationMs = s.now() - started;
  run.durations[stage] = Math.round(durationMs);
  if (events) {
    s.emit({ type: 'stage-done', image: run.image.name, stage, durationMs, ...(detail !== undefined && { detail }) });
  }
  return value;
}

function stop<T extends StageTypes>(s: Scheduler<T>, run: ImageRun<T>, stage: PipelineStage, error: unknown): void {
  const interrupted = s.signal.aborted;
  run.stopped = { stage, error: toError(error), interrupted };
  if (interrupted) {
    noteStage(s, stage);
    return;
  }
  s.errors.push({ name: run.image.name, stage, message: run.stopped.error.message });
  s.emit({ type: 'image-failed', image: run.image.name, stage, error: run.stopped.error });
}

function noteInterrupt<T extends StageTypes>(s: Scheduler<T>): void {
  const inFlight = [...s.inFlight].map(([run, stage]) => ({ image: run.image.name, stage }));
  const order = (stage: PipelineStage) => PIPELINE_STAGES.indexOf(stage);
  const furthest = inFlight.map((f) => f.stage).sort((a, b) => order(b) - order(a))[0];
  s.abort = { ...(furthest && { stage: furthest }), inFlight };
}

/** Aborted while nothing was in flight: the first stage that refused to start is where the run stopped. */
function noteStage<T extends StageTypes>(s: Scheduler<T>, stage: PipelineStage): void {
  if (s.abort) s.abort.stage ??= stage;
}

/** Images the abort stopped count as errors of the gate, so an interrupted run never passes. */
function recordInterrupted<T extends StageTypes>(s: Scheduler<T>): void {
  for (const run of s.runs) {
    if (run.stopped?.interrupted)
      s.errors.push({
        name: run.image.name,
        stage: run.stopped.stage,
        message: `interrupted during ${run.stopped.stage}`,
        interrupted: true,
      });
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

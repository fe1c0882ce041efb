import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import fg from 'fast-glob';
import {
  checkServiceUsage,
  generateSmokeProgram,
  parseProfile,
  scanSourceForServices,
  STAGE_REPORT_PREFIX,
  type ClosureReport,
  type OptimizeReport,
  type Profile,
} from '@4pass/optimizer';
import { engineLabel, type EngineContainers, type EngineIdentity, type EngineImages } from '../engine/engine.js';
import { buildImage, type BuildOptions, type BuildResult } from '../buildkit/build-image.js';
import type { BuildEvent } from '../buildkit/build-events.js';
import type { BuildCache } from '../buildkit/build-cache.js';
import type { ExtraFileEntry } from '../context/context-tree.js';
import type { MeasurementCache } from '../inspect/measurement-cache.js';
import { ServiceUsageError, SmokeTestError } from './worker-errors.js';
import { formatDuration, formatMegabytes } from '../units/format-units.js';

/**
 * The client's part of the worker pipeline, each reported as a progress group with its duration: the source scan, the
 * one build (every Dockerfile stage — builder, optimizer, closure, runtime — runs in BuildKit) and the smoke run.
 */
export type WorkerStage = 'scan' | 'build' | 'smoke';

export type WorkerEvent =
  | { type: 'stage-started'; stage: WorkerStage }
  | { type: 'stage-done'; stage: WorkerStage; durationMs: number; detail?: string }
  | { type: 'build'; stage: 'build'; event: BuildEvent };

export interface WorkerBuildOptions extends Omit<BuildOptions, 'target' | 'onEvent'> {
  /** A build's engine, and its containers for the smoke run. */
  engine: BuildOptions['engine'] & EngineContainers;
  /** The optimizer profile (validated by @4pass/optimizer); defaults to the seed's worker profile. */
  profile?: unknown;
  /** Directory with the worker's Python source, scanned for boto3 clients the profile would trim away. */
  sourceDir?: string;
  /** The final stage: default `minimal` with a `closure` in the profile, else `runtime`. */
  runtimeTarget?: string;
  /** Where the environment lives in the image; default `/opt/venv`. */
  venvPath?: string;
  /**
   * A registry build cache for the target and every stage it copies from (as `buildImage`): read from
   * `<repository>:<stage>`; with `to`, each is also tagged `<to>:<stage>` with its inline cache, to be pushed.
   */
  cache?: BuildCache;
  /** Run the optimizer's smoke program inside the final image (runtime user, read-only root); default true. */
  smoke?: boolean;
  /** Smoke results kept by image id: an image that passed its smoke program before is not run again. */
  measurements?: MeasurementCache;
  onEvent?: (event: WorkerEvent) => void;
}

export interface WorkerBuildResult extends BuildResult {
  /**
   * The optimizer's and the closure's reports, as their Dockerfile steps printed them (`4pass-stage-report`). A step
   * taken from BuildKit's cache prints nothing: its report then comes from `measurements` (kept by the step's digest
   * when it ran), else it is absent.
   */
  optimizer?: OptimizeReport;
  closure?: ClosureReport;
  /** The client's stages and their durations. */
  workerStages: { stage: WorkerStage; durationMs: number }[];
  /** `reused`: the same image passed before (see `measurements`), nothing was run. */
  smoke?: { passed: true; output: string; reused: boolean };
}

/**
 * builder → optimizer → runtime as ONE build: the Dockerfile's optimizer and closure stages run @4pass/optimizer in
 * BuildKit (the optimizer bundled into the context at `.4pass/`, with the image's profile), so every stage is cached,
 * carried by the registry cache and run where the engine is. Then the optimizer's smoke program runs inside the final
 * image as its own user with a read-only root filesystem — once per image id when `measurements` remembers it.
 * @throws {ProfileError} (from @4pass/optimizer) when `profile` is invalid, before anything is built.
 * @throws {ServiceUsageError} when the worker source calls a service the profile removes (before anything is built).
 * @throws everything `buildImage` throws ({ContextError}, {BaseImageError}, {BuildError}, {BuildCanceledError},
 *   {EngineUnavailableError}); an optimizer step that fails is a {BuildError} naming the step.
 * @throws {EngineRequestError} when the engine fails running the smoke test.
 * @throws {SmokeTestError} when the final image does not work.
 */
export async function buildWorkerImage(options: WorkerBuildOptions): Promise<WorkerBuildResult> {
  const { engine, onEvent } = options;
  const profile: Profile = parseProfile(options.profile ?? {});
  const venvPath = options.venvPath ?? '/opt/venv';
  const { stage, stages } = stageRunner(onEvent, options.signal);
  const sourceDir = options.sourceDir;
  if (sourceDir) await stage('scan', () => scanWorkerSource(sourceDir, profile), scanned);

  const printed = new Map<string, StageReport>();
  const { profile: _profile, sourceDir: _source, runtimeTarget, venvPath: _venv, smoke: _smoke, ...build } = options;
  const { result, reports } = await stage(
    'build',
    async () => {
      const built = await buildImage({
        ...build,
        target: runtimeTarget ?? (profile.closure ? 'minimal' : 'runtime'),
        extraEntries: [...(options.extraEntries ?? []), ...(await optimizerStageFiles(profile))],
        onEvent: (event) => {
          collectStageReport(event, printed);
          onEvent?.({ type: 'build', stage: 'build', event });
        },
      });
      return { result: built, reports: await stageReports(built, printed, engine, options.measurements) };
    },
    ({ result: built, reports: found }) => [describeStages(built), ...optimizerDetail(found)].join('; '),
  );
  const smoke =
    options.smoke === false
      ? undefined
      : await stage('smoke', () => smokeOnce(engine, result.imageId, venvPath, profile, options), smoked);
  return { ...result, ...reports, workerStages: stages, smoke };
}

const scanned = (files: number): string => `${files} Python files scanned`;
const smoked = (smoke: { reused: boolean }): string => (smoke.reused ? 'passed before (same image)' : 'passed');

/** The optimizer's and the closure's figures, for the build's progress line. */
function optimizerDetail({ optimizer, closure }: Pick<WorkerBuildResult, 'optimizer' | 'closure'>): string[] {
  const parts: string[] = [];
  if (optimizer) {
    const kept = optimizer.services.kept.join(' ');
    parts.push(
      `optimizer ${formatMegabytes(optimizer.before.bytes)} → ${formatMegabytes(optimizer.after.bytes)}, services kept: ${kept}`,
    );
  }
  if (closure) {
    const libraries = `${closure.libraries.length} shared libraries`;
    parts.push(
      `closure ${formatMegabytes(closure.before.bytes)} → ${formatMegabytes(closure.after.bytes)}, ${libraries}`,
    );
  }
  return parts;
}

/** `stages: 7 cached, rebuilt optimizer 3.1s, compile-venv 1.2s`. */
function describeStages(result: BuildResult): string {
  const cached = result.stages.filter((s) => s.cached).length;
  const rebuilt = result.stages.filter((s) => !s.cached).map((s) => `${s.stage} ${formatDuration(s.durationMs)}`);
  return `${cached} stages cached${rebuilt.length ? `, rebuilt ${rebuilt.join(', ')}` : ''}`;
}

/**
 * What the Dockerfile's optimizer steps read from `.4pass/` in the context: @4pass/optimizer bundled into one file (its
 * bytes are its cache key) and the profile.
 */
export async function optimizerStageFiles(profile: Profile): Promise<ExtraFileEntry[]> {
  return [
    { path: `${STAGE_DIR}/optimizer.cjs`, content: await readFile(optimizerBundlePath()) },
    { path: `${STAGE_DIR}/profile.json`, content: `${JSON.stringify(profile, null, 2)}\n` },
  ];
}

/** The context path the optimizer steps read (`RUN --mount=type=bind,source=.4pass,…`). */
export const STAGE_DIR = '.4pass';

function optimizerBundlePath(): string {
  return createRequire(import.meta.url).resolve('@4pass/optimizer/stage');
}

/** A report line of an optimizer step, with the step's digest (stable for the same inputs). */
interface StageReport {
  command: 'optimize' | 'closure';
  digest: string;
  report: unknown;
}

/** Keeps what an optimizer step printed on its `4pass-stage-report` line. */
function collectStageReport(event: BuildEvent, printed: Map<string, StageReport>): void {
  if (event.type !== 'step-log' || !event.text.startsWith(STAGE_REPORT_PREFIX)) return;
  try {
    const line = JSON.parse(event.text.slice(STAGE_REPORT_PREFIX.length)) as Omit<StageReport, 'digest'>;
    printed.set(line.command, { ...line, digest: event.digest });
  } catch {
    // a line that only looks like a report: the build's own log shows it
  }
}

/**
 * The optimizer's and the closure's reports: printed by the steps that ran (kept in `measurements` by step digest),
 * else — for a cached step — what `measurements` kept when it ran.
 */
async function stageReports(
  result: BuildResult,
  printed: ReadonlyMap<string, StageReport>,
  engine: EngineIdentity,
  measurements: MeasurementCache | undefined,
): Promise<Pick<WorkerBuildResult, 'optimizer' | 'closure'>> {
  const found: Partial<Record<StageReport['command'], unknown>> = {};
  for (const command of ['optimize', 'closure'] as const) {
    const step = result.steps.find((s) => s.name.includes(`optimizer.cjs ${command} `));
    if (!step) continue;
    const key = { kind: 'stage' as const, engine: engineLabel(engine), imageId: step.digest, input: command };
    const ran = printed.get(command);
    if (ran) await measurements?.set(key, ran.report);
    found[command] = ran?.report ?? (await measurements?.get(key));
  }
  return {
    ...(found.optimize !== undefined && { optimizer: found.optimize as OptimizeReport }),
    ...(found.closure !== undefined && { closure: found.closure as ClosureReport }),
  };
}

/** The smoke program in the final image, unless this image id passed it before. */
async function smokeOnce(
  engine: EngineIdentity & EngineContainers & Pick<EngineImages, 'inspectImage'>,
  imageId: string,
  venvPath: string,
  profile: Profile,
  options: WorkerBuildOptions,
): Promise<{ passed: true; output: string; reused: boolean }> {
  const program = generateSmokeProgram(profile);
  const key = { kind: 'smoke' as const, engine: engineLabel(engine), imageId, input: program };
  const before = await options.measurements?.get<{ output: string }>(key);
  if (before) return { passed: true, output: before.output, reused: true };
  const passed = await runSmoke(engine, imageId, venvPath, program, options.signal);
  await options.measurements?.set(key, { output: passed.output });
  return { ...passed, reused: false };
}

/** Runs stages one by one (none after an abort), reporting each as started/done and recording its duration. */
function stageRunner(
  onEvent: WorkerBuildOptions['onEvent'],
  signal: AbortSignal | undefined,
): {
  stage: <T>(name: WorkerStage, fn: () => Promise<T>, detail?: (value: T) => string) => Promise<T>;
  stages: WorkerBuildResult['workerStages'];
} {
  const stages: WorkerBuildResult['workerStages'] = [];
  const stage = async <T>(name: WorkerStage, fn: () => Promise<T>, detail?: (value: T) => string): Promise<T> => {
    signal?.throwIfAborted();
    onEvent?.({ type: 'stage-started', stage: name });
    const started = performance.now();
    const value = await fn();
    const durationMs = performance.now() - started;
    stages.push({ stage: name, durationMs });
    onEvent?.({ type: 'stage-done', stage: name, durationMs, detail: detail?.(value) });
    return value;
  };
  return { stage, stages };
}

/**
 * Scans the worker's Python files for boto3 clients of services the profile removes; returns how many files it read.
 * @throws {ServiceUsageError} listing every call site of a removed service.
 */
async function scanWorkerSource(sourceDir: string, profile: Profile): Promise<number> {
  const paths = await fg('**/*.py', {
    cwd: sourceDir,
    ignore: ['**/tests/**', '**/node_modules/**'],
    dot: false,
  });
  const files = await Promise.all(
    paths.sort().map(async (p) => ({
      path: join(relative(process.cwd(), sourceDir), p),
      content: await readFile(join(sourceDir, p), 'utf8'),
    })),
  );
  const violations = checkServiceUsage(profile, scanSourceForServices(files));
  if (violations.length) throw new ServiceUsageError(violations);
  return files.length;
}

async function runSmoke(
  engine: EngineContainers & Pick<EngineImages, 'inspectImage'>,
  image: string,
  venvPath: string,
  program: string,
  signal: AbortSignal | undefined,
): Promise<{ passed: true; output: string }> {
  const facts = await engine.inspectImage(image);
  const id = await engine.createContainer({
    image,
    entrypoint: [`${venvPath}/bin/python`, '-c', program],
    cmd: [],
    user: facts?.Config.User || undefined,
    readOnlyRootfs: true,
    tmpfs: { '/tmp': 'rw,size=16m' },
    networkMode: 'none',
    labels: { 'org.4pass.role': 'smoke' },
  });
  try {
    await engine.startContainer(id);
    const exitCode = await engine.waitContainer(id, signal);
    const logs = await engine.containerLogs(id);
    const output = `${logs.stdout}${logs.stderr}`;
    if (exitCode !== 0) throw new SmokeTestError(image, exitCode, output);
    return { passed: true, output };
  } finally {
    await engine.removeContainer(id);
  }
}

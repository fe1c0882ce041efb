import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import fg from 'fast-glob';
import tarFs from 'tar-fs';
import {
  checkServiceUsage,
  closureTar,
  generateSmokeProgram,
  optimizeDirectory,
  parseProfile,
  scanSourceForServices,
  type ClosureReport,
  type OptimizeReport,
  type Profile,
} from '@4pass/optimizer';
import type { Engine } from '../engine/engine.js';
import type { BuildOptions, BuildResult } from '../build/build-image.js';
import type { BuildEvent } from '../build/build-events.js';
import { buildWithCache, type BuildCache } from '../build/build-with-cache.js';
import type { ExtraEntry } from '../context/context-tree.js';
import { FourpassError } from '../errors.js';
import { formatMegabytes } from '../units/format-units.js';

/**
 * The stages of the worker pipeline, each reported as a progress group with its duration. `rootfs` and `closure` run
 * for the minimal runtime only (an optimizer profile with `closure`).
 */
export type WorkerStage = 'scan' | 'builder' | 'export' | 'optimize' | 'rootfs' | 'closure' | 'runtime' | 'smoke';

export type WorkerEvent =
  | { type: 'stage-started'; stage: WorkerStage }
  | { type: 'stage-done'; stage: WorkerStage; durationMs: number; detail?: string }
  | { type: 'build'; stage: 'builder' | 'rootfs' | 'runtime'; event: BuildEvent };

export interface WorkerBuildOptions extends Omit<BuildOptions, 'target' | 'onEvent' | 'extraEntries'> {
  engine: Engine;
  /** The optimizer profile (validated by @4pass/optimizer); defaults to the seed's worker profile. */
  profile?: unknown;
  /** Directory with the worker's Python source, scanned for boto3 clients the profile would trim away. */
  sourceDir?: string;
  /**
   * Dockerfile stage names: `builder`; `rootfs`, the full tree the minimal runtime is cut from (its export goes through
   * the profile's `closure`); and the final stage, default `minimal` with a `closure` in the profile, else `runtime`.
   */
  builderTarget?: string;
  rootfsTarget?: string;
  runtimeTarget?: string;
  /** Where the builder stage keeps the environment; default `/opt/venv`. */
  venvPath?: string;
  /** Path of the optimized environment inside the runtime build context; default `optimized-venv`. */
  contextPath?: string;
  /**
   * A registry build cache for both targets and every stage they copy from (`buildWithCache`): read from
   * `<repository>:<stage>`; with `to`, each is also tagged `<to>:<stage>` with its inline cache, to be pushed.
   */
  cache?: BuildCache;
  /** Directory of the closure's tree (`rootfs.tar`) inside the runtime build context; default `minimal-rootfs`. */
  rootfsContextPath?: string;
  /** Run the optimizer's smoke program inside the final image (runtime user, read-only root); default true. */
  smoke?: boolean;
  onEvent?: (event: WorkerEvent) => void;
}

export interface WorkerBuildResult {
  imageId: string;
  tags: string[];
  builder: BuildResult;
  /** The `rootfs` build and what the closure kept of it (minimal runtime only). */
  rootfs?: BuildResult;
  closure?: ClosureReport;
  runtime: BuildResult;
  optimizer: OptimizeReport;
  stages: { stage: WorkerStage; durationMs: number }[];
  smoke?: { passed: true; output: string };
}

/** A kept-service check failed: the worker's code calls a service the profile trims away. */
export class ServiceUsageError extends FourpassError {
  override readonly name = 'ServiceUsageError' as const;
  constructor(readonly violations: readonly { service: string; file: string; line: number }[]) {
    super(
      `the worker calls AWS services that the optimizer profile removes:\n` +
        violations
          .map((v) => `  - ${v.file}:${v.line}: boto3 client "${v.service}" (add it to optimizer aws.services)`)
          .join('\n'),
    );
  }
}

/** The optimizer's smoke program failed inside the built image. */
export class SmokeTestError extends FourpassError {
  override readonly name = 'SmokeTestError' as const;
  constructor(
    readonly image: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(`smoke test failed in ${image} (exit ${exitCode}):\n${output.trim().split('\n').slice(-30).join('\n')}`);
  }
}

/**
 * builder → optimizer → runtime, through the Engine API only: build the `builder` target, export the environment from
 * it (a created-never-started container, removed afterwards, and the untagged builder image removed too), slim it with
 * @4pass/optimizer, build the `runtime` target with the result added to its context, then run the optimizer's smoke
 * program inside the final image as its own user with a read-only root filesystem.
 * @throws {ProfileError} (from @4pass/optimizer) when `profile` is invalid, before anything is built.
 * @throws {ServiceUsageError} when the worker source calls a service the profile removes (before anything is built).
 * @throws everything `buildImage` throws ({ContextError}, {BaseImageError}, {BuildError}, {BuildCanceledError},
 *   {EngineUnavailableError}), from either build.
 * @throws {NotSitePackagesError} (from @4pass/optimizer) when the builder's `venvPath` holds no site-packages.
 * @throws {EngineRequestError} when the engine fails exporting the environment or running the smoke test.
 * @throws {SmokeTestError} when the final image does not work.
 */
export async function buildWorkerImage(options: WorkerBuildOptions): Promise<WorkerBuildResult> {
  const { engine, onEvent } = options;
  const profile: Profile = parseProfile(options.profile ?? {});
  const venvPath = options.venvPath ?? '/opt/venv';
  const { stage, stages } = stageRunner(onEvent, options.signal);

  const sourceDir = options.sourceDir;
  if (sourceDir) await stage('scan', () => scanWorkerSource(sourceDir, profile), scanned);

  const common = { ...options, onEvent: undefined, tags: undefined };
  const builder = await stage('builder', () =>
    buildWithCache({
      ...common,
      target: options.builderTarget ?? 'builder',
      onEvent: (event) => onEvent?.({ type: 'build', stage: 'builder', event }),
    }),
  );

  const workDir = await mkdtemp(join(tmpdir(), '4pass-worker-'));
  try {
    const venvDir = join(workDir, 'venv');
    await stage('export', () => exportPath(engine, builder.imageId, venvPath, venvDir, options.signal));
    const optimizer = await stage(
      'optimize',
      () => optimizeDirectory(venvDir, profile),
      (r) => summarize(r),
    );
    const extraEntries: ExtraEntry[] = [{ path: options.contextPath ?? 'optimized-venv', sourceDir: venvDir }];
    const minimal = profile.closure
      ? await cutMinimalRootfs({ options, common, stage, workDir, extraEntries, closure: profile.closure })
      : undefined;
    const runtimeTarget = options.runtimeTarget ?? (profile.closure ? 'minimal' : 'runtime');
    const runtime = await stage('runtime', () =>
      buildWithCache({
        ...common,
        tags: options.tags ?? [],
        target: runtimeTarget,
        extraEntries: minimal ? [...extraEntries, minimal.entry] : extraEntries,
        onEvent: (event) => onEvent?.({ type: 'build', stage: 'runtime', event }),
      }),
    );
    const program = generateSmokeProgram(profile);
    const smoke =
      options.smoke === false
        ? undefined
        : await stage('smoke', () => runSmoke(engine, runtime.imageId, venvPath, program, options.signal));
    const cut = minimal && { rootfs: minimal.rootfs, closure: minimal.closure };
    return { imageId: runtime.imageId, tags: runtime.tags, builder, ...cut, runtime, optimizer, stages, smoke };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    // The builder image is an untagged by-product (unless it is the cache's); its layers stay in BuildKit's cache.
    if (builder.imageId && !options.cache?.to) {
      await engine.removeImage(builder.imageId, { force: false }).catch(() => undefined);
    }
  }
}

const scanned = (files: number): string => `${files} Python files scanned`;

/** What {@link cutMinimalRootfs} needs from the pipeline around it. */
interface CutContext {
  options: WorkerBuildOptions;
  common: Omit<WorkerBuildOptions, 'onEvent' | 'tags'>;
  stage: ReturnType<typeof stageRunner>['stage'];
  workDir: string;
  extraEntries: readonly ExtraEntry[];
  closure: NonNullable<Profile['closure']>;
}

/**
 * The minimal runtime's tree: build the `rootfs` target (the base image with the optimized environment, the app and
 * the runtime user), export it from a created, never started container, and cut it down with the profile's closure
 * into `<workDir>/minimal-rootfs/rootfs.tar`, added to the final build's context. The untagged `rootfs` image and the
 * container are removed.
 */
async function cutMinimalRootfs(
  at: CutContext,
): Promise<{ rootfs: BuildResult; closure: ClosureReport; entry: ExtraEntry }> {
  const { options, stage } = at;
  const rootfs = await stage('rootfs', () =>
    buildWithCache({
      ...at.common,
      target: options.rootfsTarget ?? 'rootfs',
      extraEntries: at.extraEntries,
      onEvent: (event) => options.onEvent?.({ type: 'build', stage: 'rootfs', event }),
    }),
  );
  try {
    const dir = join(at.workDir, 'minimal-rootfs');
    await mkdir(dir);
    const closure = await stage(
      'closure',
      () => exportClosure(options.engine, rootfs.imageId, at.closure, join(dir, 'rootfs.tar'), at.workDir),
      (r) =>
        `${formatMegabytes(r.before.bytes)} → ${formatMegabytes(r.after.bytes)}, ${r.libraries.length} shared libraries`,
    );
    return { rootfs, closure, entry: { path: options.rootfsContextPath ?? 'minimal-rootfs', sourceDir: dir } };
  } finally {
    // Like the builder: a by-product, unless it is the build cache's `<to>:rootfs` (removing it by id would untag it).
    if (!options.cache?.to) await options.engine.removeImage(rootfs.imageId, { force: false }).catch(() => undefined);
  }
}

/** Export an image's root filesystem through a created (never started) container, always removed, into the closure. */
async function exportClosure(
  engine: Engine,
  image: string,
  options: NonNullable<Profile['closure']>,
  file: string,
  tmpDir: string,
): Promise<ClosureReport> {
  return withExportContainer(engine, image, async (id) => {
    const out = createWriteStream(file);
    try {
      const archive = await engine.exportContainer(id);
      return await closureTar(archive, out, options, { tmpDir, directoryMtime: new Date(0) });
    } catch (err) {
      out.destroy();
      throw err;
    }
  });
}

/** Runs `fn` with a created, never started container of `image` (no network), removed afterwards whatever happens. */
async function withExportContainer<T>(engine: Engine, image: string, fn: (id: string) => Promise<T>): Promise<T> {
  const id = await engine.createContainer({
    image,
    cmd: ['true'],
    labels: { 'org.4pass.role': 'export' },
    networkMode: 'none',
  });
  try {
    return await fn(id);
  } finally {
    await engine.removeContainer(id);
  }
}

/** Runs stages one by one (none after an abort), reporting each as started/done and recording its duration. */
function stageRunner(
  onEvent: WorkerBuildOptions['onEvent'],
  signal: AbortSignal | undefined,
): {
  stage: <T>(name: WorkerStage, fn: () => Promise<T>, detail?: (value: T) => string) => Promise<T>;
  stages: WorkerBuildResult['stages'];
} {
  const stages: WorkerBuildResult['stages'] = [];
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

/** Copies `path` out of an image through a created (never started) container, which is always removed. */
async function exportPath(
  engine: Engine,
  image: string,
  path: string,
  into: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await withExportContainer(engine, image, async (id) => {
    const archive = await engine.getArchive(id, path);
    // The archive's top directory is the basename of `path`; strip it so `into` holds the tree itself.
    const strip = (header: { name: string }) => ({ ...header, name: header.name.split('/').slice(1).join('/') || '.' });
    // A venv links bin/python to the base image's interpreter (an absolute path outside the tree): keep such links
    // as they are. The archive is our own builder stage's, extracted into a fresh private directory.
    await pipeline(
      archive,
      tarFs.extract(into, {
        map: strip as never,
        readable: true,
        writable: true,
        validateSymlinks: false,
      } as tarFs.ExtractOptions),
      ...(signal ? [{ signal }] : []),
    );
  });
}

async function runSmoke(
  engine: Engine,
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

function summarize(report: OptimizeReport): string {
  return `${formatMegabytes(report.before.bytes)} → ${formatMegabytes(report.after.bytes)}, ${report.before.files - report.after.files} files removed, services kept: ${report.services.kept.join(' ')}`;
}

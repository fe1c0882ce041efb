import type { Engine } from './engine/engine.js';
import type { ImageConfig, ImagesConfig } from './config/config-schema.js';
import { buildImage, type BuildEvent, type BuildResult } from './build/index.js';
import { buildWorkerImage, type WorkerBuildResult, type WorkerEvent } from './worker/index.js';
import { inspectImage, type ImageFacts, type LayerSizeCache } from './inspect/index.js';
import { measureStartup, type StartupResult } from './startup/index.js';
import { buildGateReport, evaluateImage, type GateReport, type ImageError, type ImageReport } from './report/index.js';
import {
  pushToRegistry,
  resolveTags,
  type PushEvent,
  type PushResult,
  type RegistrySettings,
  type ResolvedTags,
} from './push/index.js';
import type { RegistryAuthSource } from './push/registry-auth.js';

/**
 * The whole job, one stage per line:
 *   config → build context → engine build (events) → image facts → budget evaluation → tag/push → report.
 * `runImages` drives it for every configured image; the CLI (`pnpm build:images`) only renders its events and report.
 */

export type PipelineStage = 'build' | 'inspect' | 'startup' | 'budgets' | 'push';

export type PipelineEvent =
  | { type: 'tags'; tags: string[]; sha?: string; warning?: string }
  | { type: 'image-started'; image: string }
  | { type: 'stage-started'; image: string; stage: PipelineStage }
  | { type: 'stage-done'; image: string; stage: PipelineStage; durationMs: number; detail?: string }
  | { type: 'build'; image: string; event: BuildEvent }
  | { type: 'worker'; image: string; event: WorkerEvent }
  | { type: 'push'; image: string; event: PushEvent }
  | { type: 'image-done'; image: string; report: ImageReport }
  | { type: 'image-failed'; image: string; stage: PipelineStage; error: Error }
  | { type: 'push-skipped'; reason: string };

export interface PushRequest {
  /** Overrides the configured registry for every image (`--registry HOST[:PORT]`), keeping repository names. */
  registry?: RegistrySettings;
  auth?: RegistryAuthSource;
  /** Push even from a dirty work tree. */
  allowDirty?: boolean;
}

export interface RunImagesOptions {
  engine: Engine;
  config: ImagesConfig;
  /** Only these image names (default: all). */
  only?: string[];
  /** Evaluate budgets and measure startup (default true). `false` only builds and reports sizes. */
  budgets?: boolean;
  /** An earlier report to diff against (`--baseline`). */
  baseline?: GateReport;
  baselineSource?: string;
  /** Push after the gate passed (never before, never when it failed). */
  push?: PushRequest;
  /** An explicit commit sha for the tags (default: PR head, GITHUB_SHA, git HEAD). */
  sha?: string;
  noCache?: boolean;
  /** Compressed layer sizes kept between runs (`openLayerSizeCache`); default: shared by this run's images only. */
  layerSizeCache?: LayerSizeCache;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

export interface RunImagesResult {
  report: GateReport;
  builds: Record<string, BuildResult | WorkerBuildResult>;
  pushes: Record<string, PushResult>;
  tags?: ResolvedTags;
}

/**
 * Builds, measures and gates every configured image, then pushes them when asked and the gate passed.
 * Per-image build/engine failures are recorded in `report.errors` (the gate fails) and the other images go on; a
 * push failure is thrown after nothing further was moved.
 * @throws {DirtyWorkTreeError} when pushing from a dirty work tree without `allowDirty` (before anything is built).
 */
export async function runImages(options: RunImagesOptions): Promise<RunImagesResult> {
  const { engine, config, onEvent } = options;
  const images = selectImages(config, options.only);
  const tags = await resolveImageTags(options);
  const builds: RunImagesResult['builds'] = {};
  const reports: ImageReport[] = [];
  const errors: ImageError[] = [];
  const cache = options.layerSizeCache ?? memoryCache();

  const fail = (name: string, stage: PipelineStage, error: unknown) => {
    if (options.signal?.aborted) throw error;
    const e = error instanceof Error ? error : new Error(String(error));
    errors.push({ name, stage, message: e.message });
    onEvent?.({ type: 'image-failed', image: name, stage, error: e });
  };

  // 1. Build the images one after another. Each image's inspection (export + layer analysis + gzip sizes) runs in
  //    the background while the next image builds, so measuring costs little wall-clock time.
  const measured: {
    image: ImageConfig;
    built: BuildResult | WorkerBuildResult;
    timed: Timer;
    facts: Promise<ImageFacts>;
  }[] = [];
  for (const image of images) {
    options.signal?.throwIfAborted();
    onEvent?.({ type: 'image-started', image: image.name });
    const timed = timer(image.name, onEvent);
    const localTags = localTagsFor(image, tags);
    let built: BuildResult | WorkerBuildResult;
    try {
      built = await timed(
        'build',
        () => build(image, { ...options, tags: tags?.labels, localTags }),
        (b) =>
          `${b.imageId.slice(7, 19)}${'cachedSteps' in b ? ` (${b.cachedSteps}/${b.totalSteps} steps cached)` : ''}`,
      );
    } catch (error) {
      fail(image.name, 'build', error);
      continue;
    }
    builds[image.name] = built;
    const facts = timed(
      'inspect',
      () => inspectImage(engine, built.imageId, { paths: image.paths, cache }),
      (f) => `${mb(f.sizeBytes)} MB, ${f.layers.length} layers`,
    );
    facts.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    measured.push({
      image,
      built,
      timed,
      facts: facts.then((f) => ({ ...f, tags: localTags.length ? localTags : f.tags })),
    });
  }

  // 2. Every inspection has finished before the first container starts: start-up is measured on a quiet engine.
  const settledFacts = await Promise.allSettled(measured.map((m) => m.facts));

  // 3. Start-up runs, budgets and structure checks, one image at a time.
  for (const [i, { image, built, timed }] of measured.entries()) {
    const facts = settledFacts[i];
    if (!facts || facts.status === 'rejected') {
      fail(image.name, 'inspect', facts?.reason);
      continue;
    }
    let stage: PipelineStage = 'startup';
    try {
      let startup: StartupResult | undefined;
      if (options.budgets !== false && image.startup) {
        const startupConfig = image.startup;
        startup = await timed(
          'startup',
          () =>
            measureStartup(engine, built.imageId, {
              ...startupConfig,
              ...(options.signal && { signal: options.signal }),
            }),
          (s) => (s.medianMs === undefined ? 'not ready' : `median ${Math.round(s.medianMs)} ms`),
        );
      }
      stage = 'budgets';
      const evaluated =
        options.budgets === false
          ? {
              ...image,
              budgets: { pathSizes: {} },
              structure: {
                ...image.structure,
                absentPaths: [],
                presentPaths: [],
                nonRoot: false as const,
                healthcheck: false,
                botocoreServices: undefined,
              },
            }
          : image;
      const report = evaluateImage(facts.value, evaluated, startup, options.baseline, { durations: timed.durations });
      reports.push(report);
      onEvent?.({ type: 'image-done', image: image.name, report });
    } catch (error) {
      fail(image.name, stage, error);
    }
  }

  const report = buildGateReport(reports, {
    errors,
    baseline: options.baseline,
    baselineSource: options.baselineSource,
  });
  const pushes: RunImagesResult['pushes'] = {};
  if (options.push && tags) {
    if (!report.pass) {
      onEvent?.({ type: 'push-skipped', reason: 'the gate failed: nothing was pushed' });
    } else {
      for (const image of images) {
        const built = builds[image.name];
        if (!built) continue;
        const timed = timer(image.name, onEvent);
        pushes[image.name] = await timed(
          'push',
          () =>
            pushToRegistry({
              engine,
              image: built.imageId,
              name: image.repository ?? image.name,
              registry: options.push?.registry ?? config.registry,
              tags: tags.tags,
              ...(options.push?.auth && { auth: options.push.auth }),
              ...(options.signal && { signal: options.signal }),
              onEvent: (event) => onEvent?.({ type: 'push', image: image.name, event }),
            }),
          (p) => `${p.repository}@${p.digest.slice(0, 19)} (${p.tags.map((t) => t.tag).join(', ')})`,
        );
      }
    }
  }
  return { report, builds, pushes, ...(tags && { tags }) };
}

function selectImages(config: ImagesConfig, only: string[] | undefined): ImageConfig[] {
  if (!only?.length) return config.images;
  const names = new Set(config.images.map((i) => i.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length) {
    throw new RangeError(
      `unknown image ${unknown.map((n) => `"${n}"`).join(', ')} (configured: ${[...names].join(', ')})`,
    );
  }
  return config.images.filter((i) => only.includes(i.name));
}

/** Tags are resolved before building: their OCI labels are set at build time. Without git, local builds still work. */
async function resolveImageTags(options: RunImagesOptions): Promise<ResolvedTags | undefined> {
  const forPush = Boolean(options.push);
  try {
    const tags = await resolveTags({
      explicitSha: options.sha,
      forPush,
      allowDirty: options.push?.allowDirty ?? !forPush,
    });
    options.onEvent?.({ type: 'tags', tags: tags.tags, sha: tags.sha });
    return tags;
  } catch (error) {
    if (forPush) throw error;
    options.onEvent?.({
      type: 'tags',
      tags: ['latest'],
      warning: `no commit sha (${(error as Error).message}); tagging latest only`,
    });
    return undefined;
  }
}

function localTagsFor(image: ImageConfig, tags: ResolvedTags | undefined): string[] {
  const repo = image.repository ?? `4pass/${image.name}`;
  return (image.tags ?? tags?.tags ?? ['latest']).map((t) => `${repo}:${t}`);
}

interface BuildInput extends Omit<RunImagesOptions, 'config' | 'only'> {
  tags?: Record<string, string> | undefined;
  localTags: string[];
}

function build(image: ImageConfig, input: BuildInput): Promise<BuildResult | WorkerBuildResult> {
  const common = {
    engine: input.engine,
    contextDir: image.context,
    dockerfile: image.dockerfile,
    tags: input.localTags,
    buildArgs: image.buildArgs,
    labels: { ...image.labels, ...input.tags },
    ...(input.noCache && { noCache: true }),
    ...(input.signal && { signal: input.signal }),
  };
  if (image.pipeline === 'worker') {
    return buildWorkerImage({
      ...common,
      profile: image.optimizer ?? {},
      ...(image.sourceDir && { sourceDir: image.sourceDir }),
      onEvent: (event) => input.onEvent?.({ type: 'worker', image: image.name, event }),
    });
  }
  return buildImage({
    ...common,
    ...(image.target && { target: image.target }),
    onEvent: (event) => input.onEvent?.({ type: 'build', image: image.name, event }),
  });
}

type Timer = ReturnType<typeof timer>;

/** Runs a stage with started/done events and keeps its duration for the report. */
function timer(image: string, onEvent: RunImagesOptions['onEvent']) {
  const durations: Record<string, number> = {};
  const run = async <T>(stage: PipelineStage, fn: () => Promise<T>, detail?: (value: T) => string): Promise<T> => {
    onEvent?.({ type: 'stage-started', image, stage });
    const started = performance.now();
    const value = await fn();
    const durationMs = performance.now() - started;
    durations[stage] = Math.round(durationMs);
    onEvent?.({ type: 'stage-done', image, stage, durationMs, ...(detail && { detail: detail(value) }) });
    return value;
  };
  return Object.assign(run, { durations });
}

function memoryCache(): LayerSizeCache {
  const sizes = new Map<string, number>();
  return { get: (key) => sizes.get(key), set: (key, bytes) => void sizes.set(key, bytes) };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

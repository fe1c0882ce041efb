import { readFile } from 'node:fs/promises';
import { buildImage, type BuildOptions, type BuildResult } from '../build/build-image.js';
import { cacheRefs, dependencyStages } from '../build/cache-stages.js';
import type { ImageConfig } from '../config/config-schema.js';
import { buildWorkerImage, type WorkerBuildResult } from '../worker/build-worker-image.js';
import type { Engine } from '../engine/engine.js';
import type { BuildRequest } from './context-stage.js';
import type { StageContext } from './schedule-images.js';

/** A built image and the local tags it got. */
export interface BuiltImage {
  result: BuildResult | WorkerBuildResult;
  localTags: string[];
}

/** The build stage: BuildKit through the Engine API, or the worker pipeline (builder → optimizer → runtime). */
export async function buildStage(request: BuildRequest, at: StageContext, home?: Engine): Promise<BuiltImage> {
  const { image } = request;
  const common = {
    engine: at.engine,
    // Base images this engine lacks come from the pool's first engine (local stand-ins are never pullable).
    ...(home && home !== at.engine && { baseImageSource: home }),
    contextDir: request.contextDir,
    dockerfile: request.dockerfile,
    tags: request.localTags,
    buildArgs: request.buildArgs,
    allowSecretBuildArgs: request.allowSecretBuildArgs,
    secrets: request.secrets,
    secretSources: request.secretSources,
    labels: request.labels,
    ...(request.noCache && { noCache: true }),
    signal: at.signal,
  };
  const result =
    image.pipeline === 'worker'
      ? await buildWorkerImage({
          ...common,
          ...workerCache(image.cache),
          profile: image.optimizer ?? {},
          ...(image.target && { runtimeTarget: image.target }),
          ...(image.sourceDir && { sourceDir: image.sourceDir }),
          onEvent: (event) => at.emit({ type: 'worker', image: image.name, event }),
        })
      : await buildWithCache(image, common, (event) => at.emit({ type: 'build', image: image.name, event }));
  const cached = 'cachedSteps' in result ? ` (${result.cachedSteps}/${result.totalSteps} steps cached)` : '';
  at.describe(`${result.imageId.slice(7, 19)}${cached}`);
  return { result, localTags: request.localTags };
}

type Cache = ImageConfig['cache'];

function workerCache(cache: Cache): { cacheFrom?: string[]; cacheTo?: string } {
  if (!cache) return {};
  const repositories = [...cache.from, ...(cache.to ? [cache.to] : [])];
  return { cacheFrom: cacheRefs(repositories, ['builder', 'runtime']), ...(cache.to && { cacheTo: cache.to }) };
}

/**
 * A plain build; with a registry cache, first every stage the target copies from as its own target (each with its
 * inline cache, tagged `<cache.to>:<stage>`), then the target (`<cache.to>:<target>`), all reading every stage's cache.
 */
async function buildWithCache(
  image: ImageConfig,
  common: Omit<BuildOptions, 'onEvent'>,
  onEvent: BuildOptions['onEvent'],
): Promise<BuildResult> {
  const target = image.target;
  if (!image.cache) return buildImage({ ...common, ...(target && { target }), onEvent });
  const { from, to } = image.cache;
  const stages = target ? dependencyStages(await readFile(image.dockerfile, 'utf8'), target) : [];
  const cacheFrom = cacheRefs([...from, ...(to ? [to] : [])], [...stages, target ?? 'final']);
  const cached = { ...common, cacheFrom, inlineCache: to !== undefined, onEvent };
  for (const stage of stages) await buildImage({ ...cached, target: stage, tags: to ? [`${to}:${stage}`] : [] });
  const tags = [...(common.tags ?? []), ...(to ? [`${to}:${target ?? 'final'}`] : [])];
  return buildImage({ ...cached, ...(target && { target }), tags });
}

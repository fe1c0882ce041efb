import { readFile } from 'node:fs/promises';
import { targetFromScratch } from '../buildkit/dockerfile-stages.js';
import { buildImage, type BuildResult } from '../buildkit/build-image.js';
import { buildWorkerImage, type WorkerBuildResult } from '../worker/build-worker-image.js';
import type { Engine, RegistryAuth } from '../engine/engine.js';
import type { BuildRequest } from './context-stage.js';
import type { StageContext } from './schedule-images.js';

/** A built image and the local tags it got. */
export interface BuiltImage {
  result: BuildResult | WorkerBuildResult;
  localTags: string[];
  /** The stage built is `FROM scratch` (the default of the `scannerVisible` structure check). */
  fromScratch: boolean;
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
    registryAuth: await cacheCredentials(request, at),
    signal: at.signal,
  };
  const result =
    image.pipeline === 'worker'
      ? await buildWorkerImage({
          ...common,
          ...(image.cache && { cache: image.cache }),
          profile: image.optimizer ?? {},
          ...(image.target && { runtimeTarget: image.target }),
          ...(image.sourceDir && { sourceDir: image.sourceDir }),
          ...(request.measurements && { measurements: request.measurements }),
          onEvent: (event) => at.emit({ type: 'worker', image: image.name, event }),
        })
      : await buildImage({
          ...common,
          ...(image.target && { target: image.target }),
          ...(image.cache && { cache: image.cache }),
          onEvent: (event) => at.emit({ type: 'build', image: image.name, event }),
        });
  const cached = ` (${result.cachedSteps}/${result.totalSteps} steps cached)`;
  at.describe(`${result.imageId.slice(7, 19)}${cached}`);
  const dockerfile = await readFile(request.dockerfile, 'utf8').catch(() => '');
  return { result, localTags: request.localTags, fromScratch: targetFromScratch(dockerfile, image.target) };
}

/**
 * Credentials of the registries holding the image's build cache, handed to BuildKit over the build's session (each
 * only for its own host). A registry whose credentials cannot be had is read without: a warning, and at worst a cold
 * build — the cache only ever saves time. (Writing the cache fails the push instead: see the push stage.)
 */
async function cacheCredentials(request: BuildRequest, at: StageContext): Promise<RegistryAuth[]> {
  const { cache, name } = request.image;
  const repositories = cache ? [...cache.from, ...(cache.to ? [cache.to] : [])] : [];
  const found = await Promise.all(
    repositories.map((repository) =>
      request.cacheAccess.credentials(repository).catch((error: unknown) => {
        at.emit({
          type: 'warning',
          image: name,
          message: `build cache read without credentials: ${(error as Error).message}`,
        });
        return undefined;
      }),
    ),
  );
  const byHost = new Map(found.flatMap((auth) => (auth ? [[auth.serveraddress, auth] as const] : [])));
  return [...byHost.values()];
}

import { buildImage, type BuildResult } from '../build/build-image.js';
import { buildWorkerImage, type WorkerBuildResult } from '../worker/build-worker-image.js';
import type { BuildRequest } from './context-stage.js';
import type { StageContext } from './schedule-images.js';

/** A built image and the local tags it got. */
export interface BuiltImage {
  result: BuildResult | WorkerBuildResult;
  localTags: string[];
}

/** The build stage: BuildKit through the Engine API, or the worker pipeline (builder → optimizer → runtime). */
export async function buildStage(request: BuildRequest, at: StageContext): Promise<BuiltImage> {
  const { image } = request;
  const common = {
    engine: at.engine,
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
          profile: image.optimizer ?? {},
          ...(image.sourceDir && { sourceDir: image.sourceDir }),
          onEvent: (event) => at.emit({ type: 'worker', image: image.name, event }),
        })
      : await buildImage({
          ...common,
          ...(image.target && { target: image.target }),
          onEvent: (event) => at.emit({ type: 'build', image: image.name, event }),
        });
  const cached = 'cachedSteps' in result ? ` (${result.cachedSteps}/${result.totalSteps} steps cached)` : '';
  at.describe(`${result.imageId.slice(7, 19)}${cached}`);
  return { result, localTags: request.localTags };
}

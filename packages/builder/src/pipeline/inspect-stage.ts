import type { ImageConfig } from '../config/config-schema.js';
import { inspectImage, type ImageFacts } from '../inspect/inspect-image.js';
import { formatMegabytes } from '../units/format-units.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** The inspect stage: export + layer analysis + compressed sizes, on the engine that built the image. */
export async function inspectStage(
  image: ImageConfig,
  built: BuiltImage,
  plan: RunPlan,
  at: StageContext,
): Promise<ImageFacts> {
  const facts = await inspectImage(at.engine, built.result.imageId, {
    paths: image.paths,
    cache: plan.layerSizeCache,
    signal: at.signal,
  });
  at.describe(`${formatMegabytes(facts.sizeBytes)}, ${facts.layers.length} layers`);
  return built.localTags.length ? { ...facts, tags: built.localTags } : facts;
}

import type { ImageConfig } from '../config/config-schema.js';
import { engineLabel } from '../engine/engine.js';
import { restoreFacts, storeFacts, type StoredFacts } from '../inspect/facts-json.js';
import { inspectImage, type ImageFacts } from '../inspect/inspect-image.js';
import { formatMegabytes } from '../units/format-units.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** Bumped when what `inspectImage` measures changes: older stored facts then miss. */
const FACTS_VERSION = 1;

/**
 * The inspect stage: export + layer analysis + compressed sizes, on the engine that built the image — or, for an
 * image id measured before (`settings.measurements`), what was measured then, without exporting anything.
 */
export async function inspectStage(
  image: ImageConfig,
  built: BuiltImage,
  settings: RunPlan['inspect'],
  at: StageContext,
): Promise<ImageFacts & { reused: boolean }> {
  const key = {
    kind: 'facts' as const,
    engine: engineLabel(at.engine),
    imageId: built.result.imageId,
    input: { version: FACTS_VERSION, paths: image.paths ?? [] },
  };
  const stored = await settings.measurements?.get<StoredFacts>(key);
  const facts = stored
    ? restoreFacts(stored)
    : await inspectImage(at.engine, built.result.imageId, {
        paths: image.paths,
        cache: settings.layerSizeCache,
        signal: at.signal,
      });
  if (!stored) await settings.measurements?.set(key, storeFacts(facts));
  at.describe(
    `${formatMegabytes(facts.sizeBytes)}, ${facts.layers.length} layers${stored ? ' (measured before)' : ''}`,
  );
  return { ...facts, ...(built.localTags.length && { tags: built.localTags }), reused: stored !== undefined };
}

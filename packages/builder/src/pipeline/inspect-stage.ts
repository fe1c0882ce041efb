import type { ImageConfig } from '../config/config-types.js';
import { engineLabel } from '../engine/engine.js';
import { restoreFacts, storeFacts, type StoredFacts } from '../inspect/facts-json.js';
import { inspectImage, type ImageFacts } from '../inspect/inspect-image.js';
import { imageSbom, type CycloneDxBom } from '../sbom/image-sbom.js';
import { formatMegabytes } from '../units/format-units.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** Bumped when what `inspectImage` measures changes: older stored facts then miss. */
const FACTS_VERSION = 2;

/**
 * The inspect stage: export + layer analysis + compressed sizes, on the engine that built the image — or, for an
 * image id measured before (`settings.measurements`), what was measured then, without exporting anything. The image's
 * SBOM is made from the facts (its application files, `sbom.files`, hashed during the export).
 */
export async function inspectStage(
  image: ImageConfig,
  built: BuiltImage,
  settings: RunPlan['inspect'],
  at: StageContext,
): Promise<ImageFacts & { reused: boolean; sbom?: CycloneDxBom }> {
  const hashPaths = image.sbom.files;
  const key = {
    kind: 'facts' as const,
    engine: engineLabel(at.engine),
    imageId: built.result.imageId,
    input: { version: FACTS_VERSION, paths: image.paths ?? [], hashPaths },
  };
  const stored = await settings.measurements?.get<StoredFacts>(key);
  const facts = stored
    ? restoreFacts(stored)
    : await inspectImage(at.engine, built.result.imageId, {
        paths: image.paths,
        hashPaths,
        cache: settings.layerSizeCache,
        signal: at.signal,
      });
  if (!stored) await settings.measurements?.set(key, storeFacts(facts));
  at.describe(
    `${formatMegabytes(facts.sizeBytes)}, ${facts.layers.length} layers${stored ? ' (measured before)' : ''}`,
  );
  const tagged = { ...facts, ...(built.localTags.length && { tags: built.localTags }) };
  const sbom = tagged.contents && imageSbom({ ...tagged, contents: tagged.contents }, { name: image.name });
  return { ...tagged, reused: stored !== undefined, ...(sbom && { sbom }) };
}

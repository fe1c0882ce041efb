import type { ImageConfig } from '../config/config-types.js';
import { engineLabel } from '../engine/engine.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import { measureStartup } from '../startup/measure-startup.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { ImageStages, StageContext } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';

/**
 * The start-up stage: container start → ready, several runs, on the engine that built the image; for a Python image
 * (distributions or a standard library in its contents) one more, untimed run profiles its imports. An image id whose
 * runs all became ready before with the same settings (`measurements`) is not started again.
 */
export async function startupStage(
  image: ImageConfig,
  built: BuiltImage,
  at: StageContext,
  facts: ImageFacts | undefined,
  { measurements }: NonNullable<RunPlan['startup']>,
): Promise<StartupResult & { reused: boolean }> {
  if (!image.startup) throw new Error(`internal: ${image.name} has no startup settings`);
  const python = Boolean(facts?.contents && (facts.contents.python.length || facts.contents.pythonStdlib.length));
  const settings = { ...image.startup, profileImports: python };
  const key = {
    kind: 'startup' as const,
    engine: engineLabel(at.engine),
    imageId: built.result.imageId,
    input: settings,
  };
  const before = await measurements?.get<StartupResult>(key);
  const startup = before ?? (await measureStartup(at.engine, built.result.imageId, { ...settings, signal: at.signal }));
  if (!before && startup.ok) await measurements?.set(key, startup);
  const median = startup.medianMs === undefined ? 'not ready' : `median ${Math.round(startup.medianMs)} ms`;
  at.describe(before ? `${median} (measured before)` : median);
  return { ...startup, reused: before !== undefined };
}

/** The scheduler's start-up slot: images that configure `startup` are started, with `settings`. */
export function startupRuns(
  settings: NonNullable<RunPlan['startup']>,
): NonNullable<ImageStages<ImageStageTypes>['startup']> {
  return {
    when: (image) => image.startup !== undefined,
    run: (image, built, at, facts) => startupStage(image, built, at, facts, settings),
  };
}

import type { ImageConfig } from '../config/config-schema.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import { measureStartup } from '../startup/measure-startup.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** Start-up is measured when the image configures it and budgets are on. */
export function measuresStartup(image: ImageConfig, plan: RunPlan): boolean {
  return plan.options.budgets !== false && image.startup !== undefined;
}

/**
 * The start-up stage: container start → ready, several runs, on the engine that built the image; for a Python image
 * (distributions or a standard library in its contents) one more, untimed run profiles its imports.
 */
export async function startupStage(
  image: ImageConfig,
  built: BuiltImage,
  at: StageContext,
  facts?: ImageFacts,
): Promise<StartupResult> {
  if (!image.startup) throw new Error(`internal: ${image.name} has no startup settings`);
  const python = Boolean(facts?.contents && (facts.contents.python.length || facts.contents.pythonStdlib.length));
  const startup = await measureStartup(at.engine, built.result.imageId, {
    ...image.startup,
    profileImports: python,
    signal: at.signal,
  });
  at.describe(startup.medianMs === undefined ? 'not ready' : `median ${Math.round(startup.medianMs)} ms`);
  return startup;
}

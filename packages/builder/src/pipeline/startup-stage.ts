import type { ImageConfig } from '../config/config-schema.js';
import { measureStartup } from '../startup/measure-startup.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { BuiltImage } from './build-stage.js';
import type { RunPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** Start-up is measured when the image configures it and budgets are on. */
export function measuresStartup(image: ImageConfig, plan: RunPlan): boolean {
  return plan.options.budgets !== false && image.startup !== undefined;
}

/** The start-up stage: container start → ready, several runs, on the engine that built the image. */
export async function startupStage(image: ImageConfig, built: BuiltImage, at: StageContext): Promise<StartupResult> {
  if (!image.startup) throw new Error(`internal: ${image.name} has no startup settings`);
  const startup = await measureStartup(at.engine, built.result.imageId, { ...image.startup, signal: at.signal });
  at.describe(startup.medianMs === undefined ? 'not ready' : `median ${Math.round(startup.medianMs)} ms`);
  return startup;
}

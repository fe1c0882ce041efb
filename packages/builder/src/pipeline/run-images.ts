import { budgetsStage } from './budgets-stage.js';
import { buildStage } from './build-stage.js';
import { configStage } from './config-stage.js';
import { baselineStage } from './baseline-stage.js';
import { contextStage } from './context-stage.js';
import { inspectStage } from './inspect-stage.js';
import { pushStage } from './push-stage.js';
import { reportStage } from './report-stage.js';
import { runResult, type RunImagesResult } from './run-result.js';
import type { RunImagesOptions } from './run-options.js';
import { scheduleImages } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';
import { startupRuns } from './startup-stage.js';

/**
 * The whole job, one stage per line: config → context → build → inspect → start-up → budgets → report → tag/push.
 * What overlaps with what (inspection during the next build, start-up on a quiet engine, pushes after the gate) is
 * decided by `scheduleImages`. Per-image failures are recorded in `report.errors` and the other images go on; a push
 * failure stops the pushes after it and is returned in `pushes`; an abort is returned in `interrupted`.
 * @throws {UnknownImageError} an unknown image in `only`; {RangeError} no engine. Pushing only: {RegistrySettingsError} no registry (or ECR without a
 *   region), {InvalidRepositoryError} a bad repository name, {DirtyWorkTreeError} a dirty work tree without
 *   `allowDirty` — all before anything is built.
 */
export async function runImages(options: RunImagesOptions): Promise<RunImagesResult> {
  const plan = await configStage(options);
  const { build, inspect, startup, baseline, budgets, report, push } = plan;
  const scheduled = await scheduleImages<ImageStageTypes>({
    ...plan.schedule,
    images: plan.images,
    engines: plan.engines,
    onEvent: (event) => plan.schedule.onEvent(plan.redactor.redactDeep(event)),
    stages: {
      build: (image, at) => buildStage(contextStage(image, build), at, build.home),
      inspect: (image, built, at) => inspectStage(image, built, inspect, at),
      ...(startup && { startup: startupRuns(startup) }),
      ...(baseline && { baseline: (image, facts) => baselineStage(image, facts, baseline) }),
      budgets: (run, at) => budgetsStage(run, budgets, at),
      report: (evaluated, errors) => reportStage(evaluated, errors, report),
      ...(push && { push: (image, built, gate, at, facts) => pushStage(image, built, gate, push, at, facts?.sbom) }),
    },
  });
  return runResult(plan, scheduled);
}

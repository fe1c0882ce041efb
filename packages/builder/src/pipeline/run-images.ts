import { budgetsStage } from './budgets-stage.js';
import { buildStage } from './build-stage.js';
import { configStage } from './config-stage.js';
import { contextStage } from './context-stage.js';
import { inspectStage } from './inspect-stage.js';
import { pushStage } from './push-stage.js';
import { reportStage } from './report-stage.js';
import { runResult, type RunImagesResult } from './run-result.js';
import type { RunImagesOptions } from './run-options.js';
import { scheduleImages } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';
import { measuresStartup, startupStage } from './startup-stage.js';

/**
 * The whole job, one stage per line: config → context → build → inspect → start-up → budgets → report → tag/push.
 * What overlaps with what (inspection during the next build, start-up on a quiet engine, pushes after the gate) is
 * decided by `scheduleImages`. Per-image failures are recorded in `report.errors` and the other images go on; a push
 * failure stops the pushes after it and is returned in `pushes`; an abort is returned in `interrupted`.
 * @throws {RangeError} an unknown image in `only`. Pushing only: {RegistrySettingsError} no registry (or ECR without a
 *   region), {InvalidRepositoryError} a bad repository name, {DirtyWorkTreeError} a dirty work tree without
 *   `allowDirty` — all before anything is built.
 */
export async function runImages(options: RunImagesOptions): Promise<RunImagesResult> {
  const plan = await configStage(options);
  const { push, secrets } = plan;
  const scheduled = await scheduleImages<ImageStageTypes>({
    images: plan.images,
    engines: plan.engines,
    ...(options.perEngine !== undefined && { perEngine: options.perEngine }),
    ...(options.signal && { signal: options.signal }),
    onEvent: (event) => options.onEvent?.(secrets.redactor.redactDeep(event)),
    stages: {
      build: (image, at) => buildStage(contextStage(image, plan), at, plan.engines[0]),
      inspect: (image, built, at) => inspectStage(image, built, plan, at),
      startup: {
        when: (image) => measuresStartup(image, plan),
        run: (image, built, at, facts) => startupStage(image, built, at, facts, plan),
      },
      budgets: (run, at) => budgetsStage(run, plan, at),
      report: (evaluated, errors) => reportStage(evaluated, errors, plan),
      ...(push && { push: (image, built, at, facts) => pushStage(image, built, push, at, facts?.sbom) }),
    },
  });
  const result = runResult(plan, scheduled);
  return { ...result, report: secrets.redactor.redactDeep(result.report) };
}

import { engineLabel } from '../engine/engine.js';
import { evaluateImage } from '../report/evaluate-image.js';
import { sbomReport } from '../sbom/image-sbom.js';
import type { ImageReport } from '../report/gate-report.js';
import type { RunPlan } from './config-stage.js';
import type { MeasuredRun, StageContext } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';

/**
 * The budgets stage: rules, structure checks and growth against the baseline (the registry's image the baseline
 * stage found, else the `--baseline` report), into the image's report. Evaluation only: nothing is fetched here.
 */
export function budgetsStage(
  run: MeasuredRun<ImageStageTypes>,
  settings: RunPlan['budgets'],
  at: StageContext,
): ImageReport {
  const { result } = run.built;
  // Images built FROM scratch are checked for what scanners see unless the config says otherwise.
  const { structure } = run.image;
  const scannerVisible = structure.scannerVisible ?? run.built.fromScratch;
  const image = { ...run.image, structure: { ...structure, scannerVisible } };
  const report = evaluateImage(run.facts, image, run.startup, run.baseline ?? settings.baseline, {
    durations: { ...run.durations },
    build: { stages: result.stages, context: result.context },
    reused: reusedMeasurements(run),
    engine: engineLabel(at.engine),
    budgets: settings.budgets,
    ...(run.facts.sbom && { sbom: sbomReport(run.facts.sbom) }),
  });
  at.emit({ type: 'image-done', image: run.image.name, report });
  return report;
}

/** Which measurements of the run came from an earlier run of the same image id. */
function reusedMeasurements(run: MeasuredRun<ImageStageTypes>): NonNullable<ImageReport['reused']> {
  const reused: NonNullable<ImageReport['reused']> = [];
  if (run.facts.reused) reused.push('inspect');
  if (run.startup?.reused) reused.push('startup');
  if ('smoke' in run.built.result && run.built.result.smoke?.reused) reused.push('smoke');
  return reused;
}

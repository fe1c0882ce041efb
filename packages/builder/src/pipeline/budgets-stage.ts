import { evaluateImage } from '../report/evaluate-image.js';
import type { ImageReport } from '../report/gate-report.js';
import type { RunPlan } from './config-stage.js';
import type { MeasuredRun, StageContext } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';

/** The budgets stage: rules, structure checks and growth against the baseline, into the image's report. Pure. */
export function budgetsStage(run: MeasuredRun<ImageStageTypes>, plan: RunPlan, at: StageContext): ImageReport {
  const report = evaluateImage(run.facts, run.image, run.startup, plan.options.baseline, {
    durations: { ...run.durations },
    budgets: plan.options.budgets !== false,
  });
  at.emit({ type: 'image-done', image: run.image.name, report });
  return report;
}

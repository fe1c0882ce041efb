import { buildGateReport } from '../report/evaluate-image.js';
import type { GateReport, ImageError, ImageReport } from '../report/gate-report.js';
import type { RunPlan } from './config-stage.js';

/** The report stage: every image's report and every error in one gate report (the push happens only if it passes). */
export function reportStage(evaluated: ImageReport[], errors: ImageError[], settings: RunPlan['report']): GateReport {
  return buildGateReport(evaluated, { errors, ...settings });
}

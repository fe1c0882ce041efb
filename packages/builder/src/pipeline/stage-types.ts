import type { ImageConfig } from '../config/config-schema.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import type { PushResult } from '../push/push-image.js';
import type { GateReport, ImageReport } from '../report/gate-report.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { BuiltImage } from './build-stage.js';

/** The values that flow through `runImages`' stages (the scheduler's type parameters). */
export interface ImageStageTypes {
  image: ImageConfig;
  built: BuiltImage;
  facts: ImageFacts;
  startup: StartupResult;
  evaluated: ImageReport;
  report: GateReport;
  pushed: PushResult;
}

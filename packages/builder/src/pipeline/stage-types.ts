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
  /** `reused`: measured in an earlier run of the same image id (`RunImagesOptions.measurements`). */
  facts: ImageFacts & { reused?: boolean };
  startup: StartupResult & { reused?: boolean };
  /** The same image in the registry (`--baseline-image`), as a report; undefined when the tag does not exist. */
  baseline: ImageReport | undefined;
  evaluated: ImageReport;
  report: GateReport;
  pushed: PushResult;
}

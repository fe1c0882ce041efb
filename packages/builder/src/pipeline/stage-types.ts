import type { ImageConfig } from '../config/config-types.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import type { PushResult } from '../push/push-image.js';
import type { CycloneDxBom } from '../sbom/image-sbom.js';
import type { GateReport, ImageReport } from '../report/gate-report.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { BuiltImage } from './build-stage.js';

/** The values that flow through `runImages`' stages (the scheduler's type parameters). */
export interface ImageStageTypes {
  image: ImageConfig;
  built: BuiltImage;
  /**
   * `reused`: measured in an earlier run of the same image id (`RunImagesOptions.measurements`); `sbom`: the image's
   * SBOM, made from these facts (absent when they have no contents).
   */
  facts: ImageFacts & { reused?: boolean; sbom?: CycloneDxBom };
  startup: StartupResult & { reused?: boolean };
  /** The same image in the registry (`--baseline-image`), as a report; undefined when the tag does not exist. */
  baseline: ImageReport | undefined;
  evaluated: ImageReport;
  report: GateReport;
  /** `sbom`: where the SBOM was stored next to the image (absent when it could not be). */
  pushed: PushResult & { sbom?: { tag: string; digest: string } };
}

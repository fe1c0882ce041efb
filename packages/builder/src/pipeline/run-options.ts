import type { ImagesConfig } from '../config/config-types.js';
import type { Engine } from '../engine/engine.js';
import type { LayerSizeCache } from '../inspect/layer-size-cache.js';
import type { MeasurementCache } from '../inspect/measurement-cache.js';
import type { RegistryAuthSource } from '../push/registry-auth.js';
import type { RegistrySettings } from '../config/registry-settings.js';
import type { GateReport } from '../report/gate-report.js';
import type { PipelineEvent } from './pipeline-events.js';

export interface PushRequest {
  /** Overrides the configured registry for every image (`--registry HOST[:PORT]`), keeping repository names. */
  registry?: RegistrySettings;
  auth?: RegistryAuthSource;
  /** Push even from a dirty work tree. */
  allowDirty?: boolean;
  /** For `AWS_REGION` and `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface RunImagesSettings {
  config: ImagesConfig;
  /** Only these image names (default: all). */
  only?: string[];
  /** Evaluate budgets and measure startup (default true). `false` builds and reports sizes; only the credential scan runs. */
  budgets?: boolean;
  /** An earlier report to diff against (`--baseline`). */
  baseline?: GateReport;
  baselineSource?: string;
  /**
   * `--baseline-image REF`: compare each image with `REF` (e.g. `latest`) of its repository in the registry (the
   * push's registry and credentials), without pulling it; its stored report is used when the push left one.
   */
  baselineImage?: string;
  /** Push after the gate passed (never before, never when it failed). Its settings are checked before any build. */
  push?: PushRequest;
  /** An explicit commit sha for the tags (default: PR head, GITHUB_SHA, git HEAD). */
  sha?: string;
  noCache?: boolean;
  /** Compressed layer sizes kept between runs (`openLayerSizeCache`); default: shared by this run's images only. */
  layerSizeCache?: LayerSizeCache;
  /**
   * What was measured about an image id before (its facts, start-up runs, smoke run), kept between runs
   * (`openMeasurementCache`): an unchanged image is not exported, started or smoke-tested again, and the report says
   * which measurements it reused. Default: this run only. `remeasure: true` measures everything anew.
   */
  measurements?: MeasurementCache;
  remeasure?: boolean;
  /** Images built at the same time on one engine (default 1). */
  perEngine?: number;
  /** Where build secrets configured as `{ "env": NAME }` are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

/** Options of `runImages`: one `engine`, or a pool of `engines` (each image is built, measured and pushed on one). */
export type RunImagesOptions = RunImagesSettings &
  ({ engine: Engine; engines?: undefined } | { engines: readonly Engine[]; engine?: undefined });

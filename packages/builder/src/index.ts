/**
 * @4pass/builder — build, inspect, gate and push container images through the Docker Engine API.
 * Read the whole job in pipeline/run-images.ts: config → context → build → inspect → budgets → report → push.
 *
 * The public API, chosen name by name for deploy scripts and the CLI: run the job, release a gated image, read and
 * render the reports, connect engines, catch typed errors. Recorded in packages/builder/api/builder.api.md
 * (`pnpm api:check`, `pnpm api:update`). The building blocks under it (one build, one inspection, one push, the
 * renderers' parts) are in `@4pass/builder/internal`: for the benchmarks and tests, with no promise of stability.
 */

// Config: images.config.json, validated once (also the light entry @4pass/builder/config).
// eslint-disable-next-line no-restricted-syntax -- re-exports a chosen list, not a module's accumulated names.
export * from './config/index.js';

// The whole job: config → context → build → inspect → budgets → report → push; its exit code.
export { runImages } from './pipeline/run-images.js';
export type { PushRequest, RunImagesOptions, RunImagesSettings } from './pipeline/run-options.js';
export type { ImagePushOutcome, ImageRunRecord, RunImagesResult, RunInterruption } from './pipeline/run-result.js';
export type { PipelineEvent, PipelineStage } from './pipeline/pipeline-events.js';
export { runExit, RUN_EXIT, type RunExit } from './pipeline/run-exit.js';
export { createPipelineRenderer, type PipelineRendererOptions } from './render/pipeline-renderer.js';
export { type MeasurementCache, type MeasurementKey, openMeasurementCache } from './inspect/measurement-cache.js';
export { type FileLayerSizeCache, type LayerSizeCache, openLayerSizeCache } from './inspect/layer-size-cache.js';

// Engines: find and connect; `Engine` is made of small roles, each function asks for the ones it uses.
export { connectEngine, connectEngines, type ConnectOptions } from './engine/connection.js';

// One build with live progress, for deploy scripts that build outside the gate (a push always goes through it).
export { buildImage, type BuildOptions } from './buildkit/build-image.js';
export { createRenderer } from './render/create-renderer.js';
export {
  type ContainerInspect,
  type ContainerSpec,
  type ContainerTop,
  type Engine,
  type EngineBuildRequest,
  type EngineBuilds,
  type EngineContainers,
  type EngineIdentity,
  type EngineImages,
  type EngineJsonMessage,
  type EngineRegistry,
  type EngineSessionRequest,
  type ImageHistoryEntry,
  type ImageInspect,
  type RegistryAuth,
} from './engine/engine.js';

// The gate report (JSON `--json`, schemaVersion 2), its renderers and the image's SBOM.
export {
  type BuildReport,
  type GateReport,
  gateReportSchema,
  type ImageDiff,
  type ImageError,
  type ImageReport,
  type LayerChange,
  type LayerReport,
  type PathChange,
  type PushReport,
  REPORT_SCHEMA_VERSION,
  type SbomReport,
  type SizeChange,
  type StartupReport,
} from './report/gate-report.js';
export { type Check, type CheckStatus, type CheckUnit } from './budgets/check.js';
export { loadGateReport, parseGateReport } from './report/load-report.js';
export { renderTextReport, type RenderTextOptions } from './report/render-text.js';
export { MARKDOWN_MARKER, renderMarkdownReport } from './report/render-markdown.js';
export { renderJUnitReport } from './report/render-junit.js';
export {
  type HtmlImage,
  type HtmlReportInput,
  type RenderHtmlOptions,
  renderHtmlReport,
} from './report/render-html.js';
export { validateSbom } from './sbom/validate-sbom.js';
export { type CycloneDxBom, type CycloneDxComponent } from './sbom/image-sbom.js';

// Push credentials and what ECR keeps; `latest` is moved only by a release.
export { registryAuthFromStdin, type RegistryAuthSource } from './push/registry-auth.js';
export {
  type LifecyclePolicy,
  type LifecyclePolicyOptions,
  type LifecycleRule,
  releaseLifecyclePolicy,
} from './push/lifecycle-policy.js';

// Release: a gated sha image promoted to latest in the registry, checked against the evidence stored beside it.
export { releaseImages, type ReleaseImagesOptions } from './release/release-images.js';
export { promoteImage, type PromoteImageOptions, type PromoteResult } from './release/promote-image.js';
export {
  releaseExitCode,
  type ReleaseImageReport,
  type ReleaseReport,
  type ReleaseStatus,
} from './release/release-report.js';
export { RELEASE_MARKDOWN_MARKER, renderReleaseMarkdown, renderReleaseText } from './release/render-release.js';

// Errors a caller catches: each has a literal `name`, structured fields and a `cause`.
export { ContextError } from './context/context-errors.js';
export {
  EngineApiVersionError,
  EngineRequestError,
  EngineSshError,
  EngineTimeoutError,
  EngineTlsError,
  EngineUnavailableError,
  type TlsCertificate,
} from './engine/engine-errors.js';
export { BaseImageError, BuildCanceledError, BuildError } from './buildkit/build-errors.js';
export { ImageNotFoundError } from './inspect/inspect-errors.js';
export { StartupSetupError } from './startup/startup-errors.js';
export { ServiceUsageError, SmokeTestError } from './worker/worker-errors.js';
export { BuildSecretError, type SecretBuildArg, SecretBuildArgError } from './secrets/secret-errors.js';
export {
  DigestMismatchError,
  DirtyWorkTreeError,
  EcrError,
  PushError,
  RegistryAuthError,
  RegistryCacheError,
  RegistryServerError,
  RegistryTimeoutError,
  RegistryUnavailableError,
  TagImmutableError,
  TagResolutionError,
} from './push/push-errors.js';
export { ReleaseError, ReleaseRefusedError } from './release/release-errors.js';
export { SbomValidationError } from './sbom/validate-sbom.js';

export type { BuildCache } from './buildkit/build-cache.js';
export type { BuildEvent } from './buildkit/build-events.js';
export type { BuildResult } from './buildkit/build-image.js';
export type { ContentsReport } from './report/contents-report.js';
export type { ContextTransportKind } from './buildkit/context-transport.js';
export type { EngineApi } from './engine/api-version.js';
export type { EngineVersion } from './engine/api-version.js';
export type { ExtraEntry } from './context/context-tree.js';
export type { ImportChange } from './report/contents-report.js';
export type { ImportProfile } from './startup/import-profile.js';
export type { Interruption } from './pipeline/schedule-images.js';
export type { PackageChange } from './report/contents-report.js';
export type { PathGrowth } from './report/contents-report.js';
export type { PushEvent } from './push/push-image.js';
export type { PushImageOptions } from './push/push-image.js';
export type { PushResult } from './push/push-image.js';
export type { PushedTag } from './push/push-image.js';
export type { RegistryCacheAccess } from './push/registry-cache.js';
export type { ReleaseAccess } from './release/release-context.js';
export type { ReleaseCheck } from './release/release-checks.js';
export type { RenderStream } from './render/create-renderer.js';
export type { RendererOptions } from './render/create-renderer.js';
export type { ResolvedTags } from './push/tags.js';
export type { SecretPattern } from './secrets/scan-secrets.js';
export type { StartupFailure } from './startup/startup-result.js';
export type { StartupRun } from './startup/startup-result.js';
export type { StartupSettings } from './startup/startup-result.js';
export type { WorkerBuildResult } from './worker/build-worker-image.js';
export type { WorkerEvent } from './worker/build-worker-image.js';
export type { BaseImageResolution } from './buildkit/base-images.js';
export type { ContextTransfer } from './buildkit/context-transport.js';
export type { DebianPackage } from './inspect/debian-packages.js';
export type { DistributionImportTime } from './startup/import-profile.js';
export type { EngineFeature } from './engine/api-version.js';
export type { EnsureRepositoryOptions } from './push/registry-api.js';
export type { EnsureRepositoryResult } from './push/registry-api.js';
export type { ExtraDirEntry } from './context/context-tree.js';
export type { ExtraFileEntry } from './context/context-tree.js';
export type { LayerCounts } from './push/push-image.js';
export type { LayerPathSize } from './inspect/image-contents.js';
export type { PathSizeChange } from './report/contents-report.js';
export type { PlainRendererOptions } from './render/plain-renderer.js';
export type { ProfiledModule } from './startup/import-profile.js';
export type { PushTimeouts } from './push/push-image.js';
export type { PythonDistribution } from './inspect/python-distributions.js';
export type { RegistryApi } from './push/registry-api.js';
export type { RegistryTimeouts } from './push/registry-http-client.js';
export type { ReleaseEvent } from './release/release-events.js';
export type { RetryOptions } from './push/retry.js';
export type { ShaSource } from './push/tags.js';
export type { StageTiming } from './buildkit/stage-timings.js';
export type { StepRef } from './buildkit/build-events.js';
export type { StepSummary } from './buildkit/trace-tracker.js';
export type { TtyRendererOptions } from './render/tty-renderer.js';
export type { WorkerStage } from './worker/build-worker-image.js';
export type { DistributionPath } from './inspect/python-distributions.js';
export type { RetagOptions } from './push/registry-api.js';

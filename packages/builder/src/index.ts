/**
 * @4pass/builder — build, inspect, gate and push container images through the Docker Engine API.
 * Read the whole job in pipeline/run-images.ts: config → context → build → inspect → budgets → tag/push → report.
 *
 * The public API, chosen name by name (no `export *`): what deploy scripts, the CLI (scripts/*.mjs) and the public API
 * tests use. Everything else is internal; tests of internals import their modules directly. The surface is recorded
 * in packages/builder/api/builder.api.md (`pnpm api:check`, `pnpm api:update`).
 */

// Errors a caller catches: each has a literal `name`, structured fields and a `cause`.
export { ConfigError } from './errors/config-error.js';
export { RegistrySettingsError } from './config/config-errors.js';
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
export { FourpassError } from './errors/fourpass-error.js';
export { InvalidRepositoryError } from './references/reference-errors.js';
export { BaseImageError, BuildCanceledError, BuildError } from './buildkit/build-errors.js';
export { ImageArchiveError, ImageNotFoundError } from './inspect/inspect-errors.js';
export { StartupSetupError } from './startup/startup-errors.js';
export { ServiceUsageError, SmokeTestError } from './worker/worker-errors.js';
export { SecretBuildArgError } from './secrets/secret-errors.js';
export { type SecretBuildArg } from './secrets/secret-errors.js';
export type { SecretPattern } from './secrets/scan-secrets.js';
export { BuildSecretError } from './secrets/secret-errors.js';
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

// Engine: find and connect to a Docker engine; `Engine` is the small interface every function takes.
export { connectEngine, connectEngines, type ConnectOptions } from './engine/connection.js';
export type {
  ContainerInspect,
  ContainerSpec,
  ContainerTop,
  Engine,
  EngineBuildRequest,
  EngineBuilds,
  EngineContainers,
  EngineIdentity,
  EngineImages,
  EngineRegistry,
  EngineSessionRequest,
  EngineJsonMessage,
  ImageHistoryEntry,
  ImageInspect,
  RegistryAuth,
} from './engine/engine.js';

// Config: images.config.json, validated once. The names are the light entry's (@4pass/builder/config), listed there
// once; the full entry carries them all.
// eslint-disable-next-line no-restricted-syntax -- re-exports a chosen list, not a module's accumulated names.
export * from './config/index.js';

// Build: one image through BuildKit, its progress as typed events, and the renderers for them.
export { buildImage, type BuildOptions, type BuildResult } from './buildkit/build-image.js';
export type { ContextTransfer, ContextTransportKind } from './buildkit/context-transport.js';
export type { StageTiming } from './buildkit/stage-timings.js';
export type { EngineApi, EngineFeature, EngineVersion } from './engine/api-version.js';
export type { BuildEvent, BuildEventType, StepRef } from './buildkit/build-events.js';
export type { StepSummary } from './buildkit/trace-tracker.js';
export type { BaseImageResolution } from './buildkit/base-images.js';
export type { ExtraDirEntry, ExtraEntry, ExtraFileEntry } from './context/context-tree.js';
export { createRenderer, type RendererOptions, type RenderStream } from './render/create-renderer.js';
export type { PlainRendererOptions } from './render/plain-renderer.js';
export type { TtyRendererOptions } from './render/tty-renderer.js';
export { createPipelineRenderer, type PipelineRendererOptions } from './render/pipeline-renderer.js';

// Worker image: builder → @4pass/optimizer → runtime, every stage in BuildKit, with the smoke test.
export {
  buildWorkerImage,
  optimizerStageFiles,
  type WorkerBuildOptions,
  type WorkerBuildResult,
  type WorkerEvent,
  type WorkerStage,
} from './worker/build-worker-image.js';

// Inspect: the facts budgets are checked on (sizes, layers, waste, compressed sizes).
export {
  inspectImage,
  type HistoryFacts,
  type ImageFacts,
  type ImageRuntimeConfig,
  type InspectImageOptions,
  type LayerFacts,
} from './inspect/inspect-image.js';
export type { EntryType, Inefficiency, LayerEntry, TreeEntry } from './inspect/analyze-layers.js';
export type { HashedFile, ImageContents, LayerPathSize } from './inspect/image-contents.js';
export type { ElfOwnership } from './inspect/elf-owners.js';
export type { OsRelease } from './inspect/os-release.js';
export type { DistributionPath, PythonDistribution } from './inspect/python-distributions.js';
export type { DebianPackage } from './inspect/debian-packages.js';
export type { KnownLayer } from './inspect/registry-image.js';
export { openLayerSizeCache, type FileLayerSizeCache, type LayerSizeCache } from './inspect/layer-size-cache.js';
export {
  createMemoryMeasurementCache,
  openMeasurementCache,
  type MeasurementCache,
  type MeasurementKey,
} from './inspect/measurement-cache.js';

// Start-up: container start → ready.
export { measureStartup, type MeasureStartupOptions, type StartupEvent } from './startup/measure-startup.js';
export type { StartupFailure, StartupResult, StartupRun, StartupSettings } from './startup/startup-result.js';
export type {
  DistributionImportTime,
  ImportProfile,
  ImportTimeRecord,
  ProfiledModule,
} from './startup/import-profile.js';

// The gate report (JSON `--json`, schemaVersion 2) and its renderers.
export {
  REPORT_SCHEMA_VERSION,
  gateReportSchema,
  type BuildReport,
  type GateReport,
  type ImageDiff,
  type ImageError,
  type ImageReport,
  type LayerChange,
  type LayerReport,
  type PathChange,
  type PushReport,
  type SbomReport,
  type SizeChange,
  type StartupReport,
} from './report/gate-report.js';
export type {
  ContentsReport,
  ImportChange,
  PackageChange,
  PathGrowth,
  PathSizeChange,
} from './report/contents-report.js';
export type { Check, CheckStatus, CheckUnit } from './budgets/check.js';

// The SBOM of every image (CycloneDX 1.6 JSON, from its contents): `RunImagesResult.sboms`, stored with a push.
export {
  imageSbom,
  type CycloneDxBom,
  type CycloneDxComponent,
  type ImageSbomOptions,
  type SbomFacts,
} from './sbom/image-sbom.js';
export { SbomValidationError, validateSbom } from './sbom/validate-sbom.js';
export { loadGateReport, parseGateReport } from './report/load-report.js';
export { runExit, RUN_EXIT, type RunExit } from './pipeline/run-exit.js';
export { renderTextReport, type RenderTextOptions } from './report/render-text.js';
export { MARKDOWN_MARKER, renderMarkdownReport } from './report/render-markdown.js';
export { renderJUnitReport } from './report/render-junit.js';
export {
  renderHtmlReport,
  type HtmlImage,
  type HtmlReportInput,
  type RenderHtmlOptions,
} from './report/render-html.js';

// Tags and push: sha-<7> pushed and verified, its SBOM and gate report stored next to it; ECR or any registry. `latest`
// is moved only by a release.
export { resolveTags, type ResolvedTags, type ResolveTagsOptions, type ShaSource } from './push/tags.js';
export { pushToRegistry, resolveRegistryHost, type PushToRegistryOptions } from './push/push-to-registry.js';
export {
  DEFAULT_PUSH_TIMEOUTS,
  type LayerCounts,
  type PushedTag,
  type PushEvent,
  type PushImageOptions,
  type PushResult,
  type PushTimeouts,
} from './push/push-image.js';
export { registryAuthFromStdin, type RegistryAuthSource } from './push/registry-auth.js';
export type {
  EnsureRepositoryOptions,
  EnsureRepositoryResult,
  RegistryApi,
  RetagOptions,
} from './push/registry-api.js';
export { DEFAULT_RETRIES, type RetryOptions } from './push/retry.js';
export {
  pushBuildCache,
  registryCacheAccess,
  type PushBuildCacheOptions,
  type RegistryCacheAccess,
  type RegistryCacheAccessOptions,
} from './push/registry-cache.js';
export type { BuildCache } from './buildkit/build-cache.js';
export type { RegistryTimeouts } from './push/registry-http-client.js';
export {
  DEFAULT_LIFECYCLE,
  releaseLifecyclePolicy,
  type LifecyclePolicy,
  type LifecyclePolicyOptions,
  type LifecycleRule,
} from './push/lifecycle-policy.js';

// Release: a gated sha image promoted to latest in the registry (checked against its stored gate report, recorded).
export { promoteImage, type PromoteImageOptions, type PromoteResult } from './release/promote-image.js';
export { releaseImages, type ReleaseImagesOptions } from './release/release-images.js';
export {
  releaseExitCode,
  type ReleaseImageReport,
  type ReleaseReport,
  type ReleaseStatus,
} from './release/release-report.js';
export { RELEASE_MARKDOWN_MARKER, renderReleaseMarkdown, renderReleaseText } from './release/render-release.js';
export { ReleaseError, ReleaseRefusedError } from './release/release-errors.js';
export type { ReleaseAccess } from './release/release-context.js';
export type { ReleaseCheck } from './release/release-checks.js';
export type { ReleaseEvent } from './release/release-events.js';
export type { ReleaseRecord } from './release/release-record.js';

// The whole job: config → context → build → inspect → budgets → tag/push → report.
export { runImages } from './pipeline/run-images.js';
export type { PushRequest, RunImagesOptions, RunImagesSettings } from './pipeline/run-options.js';
export type { ImagePushOutcome, ImageRunRecord, RunImagesResult, RunInterruption } from './pipeline/run-result.js';
export type { PipelineEvent, PipelineStage } from './pipeline/pipeline-events.js';
export type { Interruption } from './pipeline/schedule-images.js';

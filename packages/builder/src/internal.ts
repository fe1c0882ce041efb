/**
 * @4pass/builder/internal — the building blocks under the public API: one build, one inspection, one start-up
 * measurement, one push, the worker pipeline, the renderers' parts and every type they name. For the benchmarks, the
 * tests and callers who accept that these change without notice: no API report, no stability promise.
 */
// eslint-disable-next-line no-restricted-syntax -- the public API, which this entry extends.
export * from './index.js';
export { ImageArchiveError } from './inspect/inspect-errors.js';
export { buildImage, type BuildOptions } from './buildkit/build-image.js';
export type { BuildEventType } from './buildkit/build-events.js';
export type { ExtraDirEntry, ExtraEntry, ExtraFileEntry } from './context/context-tree.js';
export { createRenderer } from './render/create-renderer.js';
export { buildWorkerImage, optimizerStageFiles, type WorkerBuildOptions } from './worker/build-worker-image.js';
export {
  inspectImage,
  type HistoryFacts,
  type ImageFacts,
  type ImageRuntimeConfig,
  type InspectImageOptions,
  type LayerFacts,
} from './inspect/inspect-image.js';
export type { EntryType, Inefficiency, LayerEntry, TreeEntry } from './inspect/analyze-layers.js';
export type { HashedFile, ImageContents } from './inspect/image-contents.js';
export type { ElfOwnership } from './inspect/elf-owners.js';
export type { OsRelease } from './inspect/os-release.js';
export type { KnownLayer } from './inspect/registry-image.js';
export { createMemoryMeasurementCache } from './inspect/measurement-cache.js';
export { measureStartup, type MeasureStartupOptions, type StartupEvent } from './startup/measure-startup.js';
export type { StartupResult } from './startup/startup-result.js';
export type { ImportTimeRecord } from './startup/import-profile.js';
export { imageSbom, type ImageSbomOptions, type SbomFacts } from './sbom/image-sbom.js';
export { resolveTags, type ResolveTagsOptions } from './push/tags.js';
export { pushToRegistry, type PushToRegistryOptions } from './push/push-to-registry.js';
export { DEFAULT_PUSH_TIMEOUTS, type PushImageOptions, type PushTimeouts } from './push/push-image.js';
export { DEFAULT_RETRIES } from './push/retry.js';
export {
  pushBuildCache,
  registryCacheAccess,
  type PushBuildCacheOptions,
  type RegistryCacheAccessOptions,
} from './push/registry-cache.js';
export type { BuildCache } from './buildkit/build-cache.js';
export { DEFAULT_LIFECYCLE } from './push/lifecycle-policy.js';
export type { ReleaseRecord } from './release/release-record.js';

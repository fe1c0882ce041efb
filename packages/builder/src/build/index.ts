export { buildImage } from './build-image.js';
export type { BuildOptions, BuildResult } from './build-image.js';
export { buildWithCache, FINAL_STAGE, type BuildCache } from './build-with-cache.js';
export type { BuildEvent, BuildEventType, StepRef } from './build-events.js';
export { BaseImageError, BuildCanceledError, BuildError } from './build-errors.js';
export { findBaseImageArgs, localStandIn, resolveBaseImages } from './base-images.js';
export type { BaseImageArg, BaseImageResolution, ResolveBaseImagesOptions } from './base-images.js';
export { TraceTracker } from './trace-tracker.js';
export type { StepSummary } from './trace-tracker.js';
export { decodeBuildkitTrace, timestampToMs } from './trace-wire.js';
export type {
  WireStatusResponse,
  WireTimestamp,
  WireVertex,
  WireVertexLog,
  WireVertexStatus,
  WireVertexWarning,
} from './trace-wire.js';

export { resolveTags, normaliseRemoteUrl, type ResolveTagsOptions, type ResolvedTags, type ShaSource } from './tags.js';
export {
  pushImage,
  type PushImageOptions,
  type PushResult,
  type PushedTag,
  type PushEvent,
  type LayerCounts,
} from './push-image.js';
export { pushToRegistry, resolveRegistryHost, type PushToRegistryOptions } from './push-to-registry.js';
export {
  registryAuthFromEnv,
  registryAuthFromStdin,
  createRegistryAuth,
  toEngineAuth,
  resolveRegistryAuth,
  type RegistryAuthSource,
} from './registry-auth.js';
export {
  keepLastImagesPolicy,
  type RegistryApi,
  type EnsureRepositoryOptions,
  type EnsureRepositoryResult,
  type RetagOptions,
  type LifecyclePolicy,
} from './registry-api.js';
export { EcrRegistry, createEcrRegistry, ecrAuthProvider, type EcrRegistryOptions } from './ecr-client.js';
export { RegistryHttpClient, type RegistryHttpClientOptions } from './registry-http-client.js';
export { classifyFailure, type RetryOptions, type FailureKind } from './retry.js';
export {
  RegistryAuthError,
  RegistryUnavailableError,
  PushError,
  DigestMismatchError,
  TagImmutableError,
  DirtyWorkTreeError,
  TagResolutionError,
  EcrError,
  RegistryCacheError,
} from './errors.js';
export {
  pushBuildCache,
  registryCacheAccess,
  type PushBuildCacheOptions,
  type RegistryCacheAccess,
  type RegistryCacheAccessOptions,
} from './registry-cache.js';
export {
  REPORT_ARTIFACT_TYPE,
  REPORT_CONFIG_TYPE,
  REPORT_SUBJECT_ANNOTATION,
  loadStoredReport,
  reportArtifact,
  reportArtifactTag,
  storeReport,
  type ArtifactRegistry,
} from './report-artifact.js';
export { openRegistry, type OpenRegistryOptions } from './open-registry.js';

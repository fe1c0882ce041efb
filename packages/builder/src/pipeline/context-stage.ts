import type { ImageConfig } from '../config/config-types.js';
import type { MeasurementCache } from '../inspect/measurement-cache.js';
import type { RegistryCacheAccess } from '../push/registry-cache.js';
import type { ResolvedTags } from '../push/tags.js';
import type { BuildSettings } from './config-stage.js';

/** What goes to the engine for one image: context directory, Dockerfile, build args, labels and local tags. */
export interface BuildRequest {
  image: ImageConfig;
  contextDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Credential-looking build args the image allows (their values are redacted). */
  allowSecretBuildArgs: string[];
  /** The run's build secrets (values by id) and where each comes from. */
  secrets: Record<string, Buffer>;
  secretSources: Record<string, string>;
  /** The image's labels plus the OCI labels of the commit (revision, source, created). */
  labels: Record<string, string>;
  /**
   * `<repository>:<tag>` on the engine: the configured tags, else the commit's `sha-<7>` (`sha-<7>-dirty` from a work
   * tree with changes), else none. Never `latest` or another tag that moves between runs: two runs on one engine never
   * share a mutable local tag, so a tag the report names keeps pointing at that run's image.
   */
  localTags: string[];
  noCache: boolean;
  /** Credentials of the registries that hold the image's build cache (`image.cache`). */
  cacheAccess: RegistryCacheAccess;
  /** Measurements by image id (the worker pipeline's smoke run is one). */
  measurements: MeasurementCache | undefined;
}

function commitTags(tags: ResolvedTags | undefined): string[] {
  if (!tags) return [];
  const sha = `sha-${tags.shortSha}`;
  return [tags.dirty ? `${sha}-dirty` : sha];
}

/** The context stage: the build's inputs, from the image's config and the run's tags. */
export function contextStage(image: ImageConfig, settings: BuildSettings): BuildRequest {
  const repository = image.repository ?? `4pass/${image.name}`;
  return {
    image,
    contextDir: image.context,
    dockerfile: image.dockerfile,
    buildArgs: image.buildArgs,
    allowSecretBuildArgs: image.allowSecretBuildArgs,
    secrets: settings.secrets.values,
    secretSources: settings.secrets.sources,
    labels: { ...image.labels, ...settings.tags?.labels },
    localTags: (image.tags ?? commitTags(settings.tags)).map((t) => `${repository}:${t}`),
    noCache: settings.noCache,
    cacheAccess: settings.cacheAccess,
    measurements: settings.measurements,
  };
}

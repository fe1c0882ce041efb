import type { GateReport } from '../report/gate-report.js';
import type { ImageConfig, ImagesConfig, NetworkConfig } from '../config/config-schema.js';
import type { Engine } from '../engine/engine.js';
import { createMemoryLayerSizeCache, type LayerSizeCache } from '../inspect/layer-size-cache.js';
import { createMemoryMeasurementCache, type MeasurementCache } from '../inspect/measurement-cache.js';
import type { PushedTag } from '../push/push-image.js';
import type { RegistryAuthSource } from '../push/registry-auth.js';
import {
  resolveRegistryDestination,
  type RegistryDestination,
  type RegistrySettings,
} from '../config/registry-settings.js';
import { parseRegistryHost } from '../references/registry-host.js';
import { describeSecretSource, loadBuildSecrets } from '../secrets/load-build-secrets.js';
import { findSecretBuildArgs } from '../secrets/secret-build-args.js';
import { SecretSet } from '../secrets/secret-set.js';
import { removeStaleStartupContainers } from '../startup/stale-containers.js';
import { registryCacheAccess, type RegistryCacheAccess } from '../push/registry-cache.js';
import { resolveTags, type ResolvedTags } from '../push/tags.js';
import type { PushRequest, RunImagesOptions } from './run-options.js';

/** Everything the later stages need, settled before the first build. */
export interface RunPlan {
  options: RunImagesOptions;
  images: ImageConfig[];
  engines: readonly Engine[];
  /** Undefined when there is no commit sha and nothing is pushed (the images then get no local tag). */
  tags?: ResolvedTags;
  push?: PushPlan;
  layerSizeCache: LayerSizeCache;
  /** Measurements by image id (`RunImagesOptions.measurements`); none when `remeasure`. */
  measurements: MeasurementCache | undefined;
  /** How the images' registry build caches are read (and, with `push`, written): `push.cacheAccess` when pushing. */
  cacheAccess: RegistryCacheAccess;
  secrets: SecretsPlan;
}

/** The build secrets of the run: values by id (never printed) and, for messages, where each comes from. */
export interface SecretsPlan {
  values: Record<string, Buffer>;
  sources: Record<string, string>;
  /** Every value no output may show: the build secrets and the allowed credential-looking build args. */
  redactor: SecretSet;
}

export interface PushPlan {
  registry: RegistrySettings | undefined;
  destination: RegistryDestination;
  tags: string[];
  auth?: RegistryAuthSource;
  env?: NodeJS.ProcessEnv;
  /** Deadlines and retries of the push (images.config.json `network`). */
  network: NetworkConfig;
  /** Tags that reached the registry, per image (kept even when a later step of the push failed). */
  pushed: Map<string, PushedTag[]>;
  /** The gate report, set by the report stage: each pushed image's part is stored with it (`storeReport`). */
  report?: GateReport;
  /** Credentials for the registry build caches (the push's own for its registry, ECR tokens, the environment's). */
  cacheAccess: RegistryCacheAccess;
}

/**
 * The config stage: which images, which engines, which tags, and — when pushing — a registry that can work, all
 * checked before anything is built.
 * @throws {RangeError} an unknown image name in `only`, or no engine.
 * @throws {RegistrySettingsError} pushing without a registry (or ECR without a region).
 * @throws {InvalidRepositoryError} a repository name the registry would refuse.
 * @throws {DirtyWorkTreeError} pushing from a dirty work tree without `allowDirty`.
 * @throws {BuildSecretError} a build secret's file exists but cannot be read.
 */
export async function configStage(options: RunImagesOptions): Promise<RunPlan> {
  const images = selectImages(options.config, options.only);
  const engines = options.engines ?? [options.engine];
  if (engines.length === 0) throw new RangeError('runImages needs an engine');
  const push = options.push && checkPush(options.config, images, options.push, options.cacheAccess);
  const tags = await resolveImageTags(options);
  const secrets = await secretsPlan(options);
  await removeLeftovers(engines, options);
  return {
    options,
    images,
    engines,
    ...(tags && { tags }),
    ...(push && tags && { push: { ...push, tags: tags.tags } }),
    layerSizeCache: options.layerSizeCache ?? createMemoryLayerSizeCache(),
    measurements: options.remeasure ? undefined : (options.measurements ?? createMemoryMeasurementCache()),
    secrets,
    cacheAccess: push?.cacheAccess ?? options.cacheAccess ?? registryCacheAccess(),
  };
}

/**
 * Start-up containers of an earlier run that was killed (SIGKILL leaves no chance to clean up) are removed before
 * this run measures anything. Best effort: an engine that does not answer fails its builds with a clear error anyway.
 */
async function removeLeftovers(engines: readonly Engine[], options: RunImagesOptions): Promise<void> {
  for (const engine of engines) {
    const removed = await removeStaleStartupContainers(engine).catch(() => []);
    if (removed.length) options.onEvent?.({ type: 'leftovers-removed', engine: engine.address, containers: removed });
  }
}

/** Reads the configured build secrets and says which ones are not given (unset variable, missing file). */
async function secretsPlan(options: RunImagesOptions): Promise<SecretsPlan> {
  const configured = options.config.secrets ?? {};
  const loaded = await loadBuildSecrets(configured, options.env);
  const sources = Object.fromEntries(Object.entries(configured).map(([id, s]) => [id, describeSecretSource(s)]));
  if (Object.keys(configured).length > 0) {
    options.onEvent?.({ type: 'secrets', given: Object.keys(loaded.values).sort(), missing: loaded.missing });
  }
  const redactor = new SecretSet();
  for (const value of Object.values(loaded.values)) redactor.addValue(value);
  for (const image of options.config.images) {
    for (const arg of findSecretBuildArgs(image.buildArgs)) redactor.add(image.buildArgs[arg.name]);
  }
  return { values: loaded.values, sources, redactor };
}

/**
 * The images `only` names (all without it), in config order.
 * @throws {RangeError} an unknown image name.
 */
export function selectImages(config: ImagesConfig, only: string[] | undefined): ImageConfig[] {
  if (!only?.length) return config.images;
  const names = new Set(config.images.map((i) => i.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length) {
    throw new RangeError(
      `unknown image ${unknown.map((n) => `"${n}"`).join(', ')} (configured: ${[...names].join(', ')})`,
    );
  }
  return config.images.filter((i) => only.includes(i.name));
}

/** No network call: the registry settings and every repository name are checked here. */
function checkPush(
  config: ImagesConfig,
  images: ImageConfig[],
  request: PushRequest,
  cacheAccess: RegistryCacheAccess | undefined,
): Omit<PushPlan, 'tags'> {
  const registry = request.registry ?? config.registry;
  const destination = resolveRegistryDestination(registry, request.env);
  const host = destination.host ?? 'registry.invalid';
  for (const image of images) parseRegistryHost(`${host}/${repositoryName(image)}`);
  return {
    registry,
    destination,
    network: config.network ?? {},
    pushed: new Map(),
    ...(request.auth && { auth: request.auth }),
    ...(request.env && { env: request.env }),
    cacheAccess:
      cacheAccess ??
      registryCacheAccess({
        push: { host: destination.host, auth: request.auth },
        ...(request.env && { env: request.env }),
      }),
  };
}

/** The repository name inside the registry: `repository`, else the image's name. */
export function repositoryName(image: ImageConfig): string {
  return image.repository ?? image.name;
}

/** Tags are resolved before building: their OCI labels are set at build time. Without git, local builds still work. */
async function resolveImageTags(options: RunImagesOptions): Promise<ResolvedTags | undefined> {
  const forPush = Boolean(options.push);
  try {
    const tags = await resolveTags({
      explicitSha: options.sha,
      forPush,
      allowDirty: options.push?.allowDirty ?? !forPush,
    });
    options.onEvent?.({ type: 'tags', tags: tags.tags, sha: tags.sha });
    return tags;
  } catch (error) {
    if (forPush) throw error;
    options.onEvent?.({
      type: 'tags',
      tags: [],
      warning: `no commit sha (${(error as Error).message}); images are named by id only`,
    });
    return undefined;
  }
}

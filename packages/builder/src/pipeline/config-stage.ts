import type { GateReport } from '../report/gate-report.js';
import type { ImageConfig, ImagesConfig, NetworkConfig } from '../config/config-types.js';
import type { Engine } from '../engine/engine.js';
import { createMemoryLayerSizeCache, type LayerSizeCache } from '../inspect/layer-size-cache.js';
import { createMemoryMeasurementCache, type MeasurementCache } from '../inspect/measurement-cache.js';
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
import type { PipelineEvent } from './pipeline-events.js';
import { UnknownImageError } from '../config/config-errors.js';

/**
 * What each later stage needs, settled before the first build — each stage gets its own part and nothing else (no
 * options bag handed down, nothing written back by a stage).
 */
export interface RunPlan {
  images: ImageConfig[];
  engines: readonly Engine[];
  /** Undefined when there is no commit sha and nothing is pushed (the images then get no local tag). */
  tags?: ResolvedTags;
  /** Every value no output may show: the build secrets and the allowed credential-looking build args. */
  redactor: SecretSet;
  schedule: { perEngine?: number; signal?: AbortSignal; onEvent: (event: PipelineEvent) => void };
  build: BuildSettings;
  inspect: { layerSizeCache: LayerSizeCache; measurements: MeasurementCache | undefined };
  /** Unset with `budgets: false` (no start-up runs). */
  startup?: { measurements: MeasurementCache | undefined };
  /** `--baseline-image REF`: where the image's baseline is read in the registry. */
  baseline?: BaselineSettings;
  budgets: { budgets: boolean; baseline?: GateReport };
  report: { baseline?: GateReport; baselineSource?: string };
  push?: PushPlan;
}

/** What the context and build stages need: secrets, labels and local tags of the commit, caches. */
export interface BuildSettings {
  secrets: SecretsPlan;
  tags: ResolvedTags | undefined;
  noCache: boolean;
  /** How the images' registry build caches are read (and, with `push`, written). */
  cacheAccess: RegistryCacheAccess;
  measurements: MeasurementCache | undefined;
  /** The pool's first engine: base images another engine lacks are loaded from it. */
  home: Engine | undefined;
}

export interface BaselineSettings {
  reference: string;
  registry: RegistrySettings | undefined;
  auth?: RegistryAuthSource;
  env?: NodeJS.ProcessEnv;
}

/** The build secrets of the run: values by id (never printed) and, for messages, where each comes from. */
export interface SecretsPlan {
  values: Record<string, Buffer>;
  sources: Record<string, string>;
}

export interface PushPlan {
  registry: RegistrySettings | undefined;
  destination: RegistryDestination;
  tags: string[];
  auth?: RegistryAuthSource;
  env?: NodeJS.ProcessEnv;
  /** Deadlines and retries of the push (images.config.json `network`). */
  network: NetworkConfig;
  /** Credentials for the registry build caches (the push's own for its registry, ECR tokens, the environment's). */
  cacheAccess: RegistryCacheAccess;
}

/**
 * The config stage: which images, which engines, which tags, and — when pushing — a registry that can work, all
 * checked before anything is built; then each stage's part of the run.
 * @throws {UnknownImageError} an image name in `only` that the config does not have.
 * @throws {RangeError} no engine.
 * @throws {RegistrySettingsError} pushing without a registry (or ECR without a region).
 * @throws {InvalidRepositoryError} a repository name the registry would refuse.
 * @throws {DirtyWorkTreeError} pushing from a dirty work tree without `allowDirty`.
 * @throws {BuildSecretError} a build secret's file exists but cannot be read.
 */
export async function configStage(options: RunImagesOptions): Promise<RunPlan> {
  const images = selectImages(options.config, options.only);
  const engines = options.engines ?? [options.engine];
  if (engines.length === 0) throw new RangeError('runImages needs an engine');
  const onEvent = options.onEvent ?? (() => undefined);
  const push = options.push && checkPush(options.config, images, options.push);
  const tags = await resolveImageTags(options, onEvent);
  const { secrets, redactor } = await secretsPlan(options, onEvent);
  await removeLeftovers(engines, onEvent);
  const measurements = options.remeasure ? undefined : (options.measurements ?? createMemoryMeasurementCache());
  const budgets = options.budgets !== false;
  const cacheAccess = push?.cacheAccess ?? registryCacheAccess(options.env ? { env: options.env } : {});
  return {
    images,
    engines,
    ...(tags && { tags }),
    redactor,
    schedule: {
      ...(options.perEngine !== undefined && { perEngine: options.perEngine }),
      ...(options.signal && { signal: options.signal }),
      onEvent,
    },
    build: { secrets, tags, noCache: options.noCache === true, cacheAccess, measurements, home: engines[0] },
    inspect: { layerSizeCache: options.layerSizeCache ?? createMemoryLayerSizeCache(), measurements },
    ...(budgets && { startup: { measurements } }),
    ...(options.baselineImage && { baseline: baselineSettings(options, options.baselineImage) }),
    budgets: { budgets, ...(options.baseline && { baseline: options.baseline }) },
    report: {
      ...(options.baseline && { baseline: options.baseline }),
      ...(options.baselineSource && { baselineSource: options.baselineSource }),
    },
    ...(push && tags && { push: { ...push, tags: tags.tags } }),
  };
}

/** `--baseline-image`: the push's registry and credentials when pushing, else the configured registry's. */
function baselineSettings(options: RunImagesOptions, reference: string): BaselineSettings {
  return {
    reference,
    registry: options.push?.registry ?? options.config.registry,
    ...(options.push?.auth && { auth: options.push.auth }),
    ...(options.push?.env && { env: options.push.env }),
  };
}

/**
 * Start-up containers of an earlier run that was killed (SIGKILL leaves no chance to clean up) are removed before
 * this run measures anything. Best effort: an engine that does not answer fails its builds with a clear error anyway.
 */
async function removeLeftovers(engines: readonly Engine[], onEvent: (event: PipelineEvent) => void): Promise<void> {
  for (const engine of engines) {
    const removed = await removeStaleStartupContainers(engine).catch(() => []);
    if (removed.length) onEvent({ type: 'leftovers-removed', engine: engine.address, containers: removed });
  }
}

/** Reads the configured build secrets and says which ones are not given (unset variable, missing file). */
async function secretsPlan(
  options: RunImagesOptions,
  onEvent: (event: PipelineEvent) => void,
): Promise<{ secrets: SecretsPlan; redactor: SecretSet }> {
  const configured = options.config.secrets ?? {};
  const loaded = await loadBuildSecrets(configured, options.env);
  const sources = Object.fromEntries(Object.entries(configured).map(([id, s]) => [id, describeSecretSource(s)]));
  if (Object.keys(configured).length > 0) {
    onEvent({ type: 'secrets', given: Object.keys(loaded.values).sort(), missing: loaded.missing });
  }
  const redactor = new SecretSet();
  for (const value of Object.values(loaded.values)) redactor.addValue(value);
  for (const image of options.config.images) {
    for (const arg of findSecretBuildArgs(image.buildArgs)) redactor.add(image.buildArgs[arg.name]);
  }
  return { secrets: { values: loaded.values, sources }, redactor };
}

/**
 * The images `only` names (all without it), in config order.
 * @throws {UnknownImageError} an unknown image name.
 */
export function selectImages(config: ImagesConfig, only: string[] | undefined): ImageConfig[] {
  if (!only?.length) return config.images;
  const names = new Set(config.images.map((i) => i.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length) throw new UnknownImageError(unknown, [...names]);
  return config.images.filter((i) => only.includes(i.name));
}

/** No network call: the registry settings and every repository name are checked here. */
function checkPush(config: ImagesConfig, images: ImageConfig[], request: PushRequest): Omit<PushPlan, 'tags'> {
  const registry = request.registry ?? config.registry;
  const destination = resolveRegistryDestination(registry, request.env);
  const host = destination.host ?? 'registry.invalid';
  for (const image of images) parseRegistryHost(`${host}/${repositoryName(image)}`);
  return {
    registry,
    destination,
    network: config.network ?? {},
    ...(request.auth && { auth: request.auth }),
    ...(request.env && { env: request.env }),
    cacheAccess: registryCacheAccess({
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
async function resolveImageTags(
  options: RunImagesOptions,
  onEvent: (event: PipelineEvent) => void,
): Promise<ResolvedTags | undefined> {
  const forPush = Boolean(options.push);
  try {
    const tags = await resolveTags({
      explicitSha: options.sha,
      forPush,
      allowDirty: options.push?.allowDirty ?? !forPush,
    });
    onEvent({ type: 'tags', tags: tags.tags, sha: tags.sha });
    return tags;
  } catch (error) {
    if (forPush) throw error;
    onEvent({
      type: 'tags',
      tags: [],
      warning: `no commit sha (${(error as Error).message}); images are named by id only`,
    });
    return undefined;
  }
}

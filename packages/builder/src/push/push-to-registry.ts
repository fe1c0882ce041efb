import type { Engine } from '../engine/engine.js';
import { createEcrRegistry } from './ecr-client.js';
import { InvalidRepositoryError } from './errors.js';
import { pushImage, type PushEvent, type PushImageOptions, type PushResult } from './push-image.js';
import type { EnsureRepositoryOptions, RegistryApi } from './registry-api.js';
import { registryAuthFromEnv, type RegistryAuthSource } from './registry-auth.js';
import { parseRegistryHost } from './registry-host.js';
import type { RetryOptions } from './retry.js';

/** Where images go: `images.config.json`'s `registry`, with `--registry HOST[:PORT]` as `host` when given. */
export interface RegistrySettings {
  /** `host[:port]`; an ECR host gives region and account. */
  host?: string;
  /** With `accountId` and no `host`: the ECR registry `<accountId>.dkr.ecr.<region>.amazonaws.com`. */
  region?: string;
  accountId?: string;
}

/**
 * The registry host for `settings`: `host`, else the ECR host from `accountId` + `region`.
 * @throws {InvalidRepositoryError} when neither is configured.
 */
export function resolveRegistryHost(settings: RegistrySettings = {}): string {
  if (settings.host) return settings.host.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (settings.accountId && settings.region) return `${settings.accountId}.dkr.ecr.${settings.region}.amazonaws.com`;
  throw new InvalidRepositoryError(
    '(none)',
    'no registry configured: pass --registry HOST[:PORT], or set registry.host (or registry.accountId + registry.region) in images.config.json',
  );
}

export interface PushToRegistryOptions {
  engine: Engine;
  /** Local image id or reference (the image that passed the gate). */
  image: string;
  /** Repository name inside the registry, e.g. `4pass/api` (kept when `--registry` overrides the host). */
  name: string;
  registry?: RegistrySettings;
  /** `resolveTags().tags`: `['sha-<7>', 'latest']`. */
  tags: string[];
  /**
   * Credentials. Default: ECR token (via the AWS SDK default chain) for ECR hosts, else
   * `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`; pass `registryAuthFromStdin(host)` for `--password-stdin`.
   */
  auth?: RegistryAuthSource;
  env?: NodeJS.ProcessEnv;
  /** ECR control plane; default `createEcrRegistry({ registryHost })` for ECR hosts. */
  ecr?: RegistryApi;
  ensureRepository?: boolean | Omit<EnsureRepositoryOptions, 'name'>;
  onEvent?: (event: PushEvent) => void;
  retries?: RetryOptions;
  signal?: AbortSignal;
  /** Passed through to `pushImage` (tests). */
  fetch?: PushImageOptions['fetch'];
}

/**
 * What `build-images --push` calls per image after the gate passed: resolves the registry (configured, or the
 * `--registry` override keeping the repository name), picks ECR or generic credentials, and runs `pushImage`.
 * @throws everything `pushImage` throws, plus {InvalidRepositoryError} when no registry is configured.
 */
export async function pushToRegistry(options: PushToRegistryOptions): Promise<PushResult> {
  const env = options.env ?? process.env;
  const host = resolveRegistryHost(options.registry);
  const target = parseRegistryHost(`${host}/${options.name}`);
  let ecr = options.ecr;
  if (!ecr && target.isEcr) ecr = createEcrRegistry({ registryHost: target.host, env });
  const auth = options.auth ?? (target.isEcr ? undefined : registryAuthFromEnv(target.host, env));
  const pushOptions: PushImageOptions = {
    engine: options.engine,
    image: options.image,
    repository: target.repository,
    tags: options.tags,
    env,
  };
  if (auth) pushOptions.auth = auth;
  if (ecr) pushOptions.ecr = ecr;
  if (options.ensureRepository !== undefined) pushOptions.ensureRepository = options.ensureRepository;
  if (options.onEvent) pushOptions.onEvent = options.onEvent;
  if (options.retries) pushOptions.retries = options.retries;
  if (options.signal) pushOptions.signal = options.signal;
  if (options.fetch) pushOptions.fetch = options.fetch;
  return pushImage(pushOptions);
}

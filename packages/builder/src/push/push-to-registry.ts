import { createEcrRegistry } from './ecr-client.js';
import { InvalidRepositoryError } from './errors.js';
import { pushImage, type PushImageOptions, type PushResult } from './push-image.js';
import { registryAuthFromEnv } from './registry-auth.js';
import { parseRegistryHost } from './registry-host.js';

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

/**
 * `pushImage`'s options with the registry resolved here: a repository `name` plus `registry` settings instead of a full
 * `host[:port]/name`. Defaults: the ECR control plane (`createEcrRegistry`) and ECR tokens for ECR hosts, else
 * `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`; pass `registryAuthFromStdin(host)` for `--password-stdin`.
 */
export interface PushToRegistryOptions extends Omit<
  PushImageOptions,
  'repository' | 'scheme' | 'beforePointingTags' | 'sleep'
> {
  /** Repository name inside the registry, e.g. `4pass/api` (kept when `--registry` overrides the host). */
  name: string;
  registry?: RegistrySettings;
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
  const { name: _name, registry: _registry, ...passThrough } = options;
  const pushOptions: PushImageOptions = { ...passThrough, repository: target.repository, env };
  if (auth) pushOptions.auth = auth;
  if (ecr) pushOptions.ecr = ecr;
  return pushImage(pushOptions);
}

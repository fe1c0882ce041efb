import { createEcrRegistry } from './ecr-client.js';
import { RegistrySettingsError } from '../config/config-errors.js';
import { pushImage, type PushImageOptions, type PushResult } from './push-image.js';
import type { RegistryApi } from './registry-api.js';
import { registryAuthFromEnv } from './registry-auth.js';
import { resolveRegistryDestination, type RegistrySettings } from '../config/registry-settings.js';
import { parseRegistryHost, type RegistryTarget } from '../references/registry-host.js';

/**
 * `pushImage`'s options with the registry resolved here: a repository `name` plus `registry` settings instead of a full
 * `host[:port]/name`. Defaults: the ECR control plane (`createEcrRegistry`) and ECR tokens for ECR registries, else
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
 * `--registry` override keeping the repository name; for ECR by region alone, the endpoint of the authorization
 * token), picks ECR or generic credentials, and runs `pushImage`.
 * @throws {RegistrySettingsError} no registry configured, ECR without a region, or ECR naming no endpoint.
 * @throws {InvalidRepositoryError} `registry.host` and `name` make no valid repository.
 * @throws {EcrError} an ECR control-plane call failed (authorization token, repository settings).
 * @throws {RegistryAuthError} bad credentials (at once, never retried).
 * @throws {RegistryUnavailableError} transient failures that outlasted the retries.
 * @throws {TagImmutableError} an immutable tag already points at another digest.
 * @throws {DigestMismatchError} the registry or the local image disagree about the digest.
 * @throws {PushError} any other push failure (no or an invalid tag, a missing local image), with the daemon's text.
 */
export async function pushToRegistry(options: PushToRegistryOptions): Promise<PushResult> {
  const env = options.env ?? process.env;
  const { target, ecr } = await resolveRegistryTarget({ ...options, env });
  const auth = options.auth ?? (target.isEcr ? undefined : registryAuthFromEnv(target.host, env));
  const { name: _name, registry: _registry, ...passThrough } = options;
  const pushOptions: PushImageOptions = { ...passThrough, repository: target.repository, env };
  if (auth) pushOptions.auth = auth;
  if (ecr) pushOptions.ecr = ecr;
  return pushImage(pushOptions);
}

/**
 * Where repository `name` lives: the configured host (or `--registry`), else the ECR endpoint of the authorization
 * token; with, for ECR, its control plane (`options.ecr` or the AWS SDK's default chain).
 * @throws {RegistrySettingsError} no registry configured, ECR without a region, or ECR naming no endpoint.
 */
export async function resolveRegistryTarget(options: {
  registry?: RegistrySettings | undefined;
  name: string;
  env: NodeJS.ProcessEnv;
  ecr?: RegistryApi | undefined;
}): Promise<{ target: RegistryTarget; ecr: RegistryApi | undefined }> {
  const { env } = options;
  const destination = resolveRegistryDestination(options.registry, env);
  const ecr =
    options.ecr ??
    (destination.ecr &&
      createEcrRegistry({ ...destination.ecr, ...(destination.host && { registryHost: destination.host }), env }));
  const host = destination.host ?? (await ecrEndpoint(ecr));
  return { target: parseRegistryHost(`${host.replace(/\/+$/, '')}/${options.name}`), ecr };
}

/** The registry endpoint ECR names in its authorization token (`proxyEndpoint`): no account id needed. */
async function ecrEndpoint(ecr: RegistryApi | undefined): Promise<string> {
  const endpoint = ecr && (await ecr.getRegistryAuth()).serveraddress.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!endpoint) throw new RegistrySettingsError('ECR returned no registry endpoint: set registry.accountId');
  return endpoint;
}

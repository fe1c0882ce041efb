import { createEcrRegistry } from './ecr-client.js';
import { RegistrySettingsError } from '../errors.js';
import { pushImage, type PushImageOptions, type PushResult } from './push-image.js';
import type { RegistryApi } from './registry-api.js';
import { registryAuthFromEnv } from './registry-auth.js';
import { resolveRegistryDestination, type RegistrySettings } from '../config/registry-settings.js';
import { parseRegistryHost } from '../references/registry-host.js';

/**
 * The registry host for `settings` when it is known without any call: `host`, else the ECR host from `accountId` +
 * `region` (the region may come from `AWS_REGION`).
 * @throws {RegistrySettingsError} when no registry is configured, or only an ECR region (the host then comes from the
 *   authorization token at push time).
 */
export function resolveRegistryHost(settings?: RegistrySettings, env: NodeJS.ProcessEnv = process.env): string {
  const { host } = resolveRegistryDestination(settings, env);
  if (host) return host;
  throw new RegistrySettingsError(
    'the ECR registry host is only known from the authorization token (registry has a region but no accountId): ' +
      'pass --registry HOST or set registry.accountId',
  );
}

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
 * @throws everything `pushImage` throws, plus {RegistrySettingsError} when no registry is configured.
 */
export async function pushToRegistry(options: PushToRegistryOptions): Promise<PushResult> {
  const env = options.env ?? process.env;
  const destination = resolveRegistryDestination(options.registry, env);
  const ecr =
    options.ecr ??
    (destination.ecr &&
      createEcrRegistry({ ...destination.ecr, ...(destination.host && { registryHost: destination.host }), env }));
  const host = destination.host ?? (await ecrEndpoint(ecr));
  const target = parseRegistryHost(`${host}/${options.name}`);
  const auth = options.auth ?? (target.isEcr ? undefined : registryAuthFromEnv(target.host, env));
  const { name: _name, registry: _registry, ...passThrough } = options;
  const pushOptions: PushImageOptions = { ...passThrough, repository: target.repository, env };
  if (auth) pushOptions.auth = auth;
  if (ecr) pushOptions.ecr = ecr;
  return pushImage(pushOptions);
}

/** The registry endpoint ECR names in its authorization token (`proxyEndpoint`): no account id needed. */
async function ecrEndpoint(ecr: RegistryApi | undefined): Promise<string> {
  const endpoint = ecr && (await ecr.getRegistryAuth()).serveraddress.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!endpoint) throw new RegistrySettingsError('ECR returned no registry endpoint: set registry.accountId');
  return endpoint;
}

import type { RegistrySettings } from '../config/registry-settings.js';
import { defaultRegistryScheme } from '../references/registry-host.js';
import { resolveRegistryTarget } from './push-to-registry.js';
import type { RegistryApi } from './registry-api.js';
import { registryAuthFromEnv, resolveRegistryAuth, type RegistryAuthSource } from './registry-auth.js';
import { RegistryHttpClient, type RegistryTimeouts } from './registry-http-client.js';
import { SecretSet } from '../secrets/secret-set.js';

export interface OpenRegistryOptions {
  /** The configured registry (or the `--registry` override). */
  registry?: RegistrySettings;
  /** Repository name inside the registry, e.g. `4pass/worker`. */
  name: string;
  /** Default: ECR tokens for ECR registries, else `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`, else anonymous. */
  auth?: RegistryAuthSource;
  ecr?: RegistryApi;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Deadlines of each request (default: the client's). */
  timeouts?: RegistryTimeouts;
  /** Aborting stops the request in flight. */
  signal?: AbortSignal;
}

/**
 * A registry API client for one repository, with credentials found the way a push finds them (an ECR token from the
 * AWS SDK's default chain for ECR, else `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`): for reading an image or its stored
 * report without the engine, and for storing the report.
 * @throws {RegistrySettingsError} when no registry is configured.
 */
export async function openRegistry(
  options: OpenRegistryOptions,
): Promise<{ client: RegistryHttpClient; host: string; name: string; repository: string; secrets: SecretSet }> {
  const env = options.env ?? process.env;
  const { target, ecr } = await resolveRegistryTarget({ ...options, env });
  const source = options.auth ?? (ecr ? () => ecr.getRegistryAuth() : registryAuthFromEnv(target.host, env));
  const auth = source ? await resolveRegistryAuth(source) : undefined;
  const secrets = new SecretSet();
  if (auth) secrets.addAuth(auth);
  const client = new RegistryHttpClient({
    host: target.host,
    scheme: defaultRegistryScheme(target),
    redact: (text) => secrets.redact(text),
    ...(auth && { auth }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.timeouts && { timeouts: options.timeouts }),
    ...(options.signal && { signal: options.signal }),
  });
  return { client, host: target.host, name: target.name, repository: target.repository, secrets };
}

import type { EngineImages, EngineRegistry, RegistryAuth } from '../engine/engine.js';
import { parseRegistryHost } from '../references/registry-host.js';
import { createEcrRegistry } from './ecr-client.js';
import { RegistryCacheError } from './push-errors.js';
import { pushImage, type PushEvent } from './push-image.js';
import type { RegistryApi } from './registry-api.js';
import { registryAuthFromEnv, resolveRegistryAuth, type RegistryAuthSource } from './registry-auth.js';

export interface RegistryCacheAccessOptions {
  /** The push's registry host and credentials: a cache repository on that host is reached with them. */
  push?: { host?: string | undefined; auth?: RegistryAuthSource | undefined };
  /** For `REGISTRY_USERNAME` / `REGISTRY_PASSWORD` and the AWS SDK's region (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The ECR control plane of an ECR host; default `createEcrRegistry` (the AWS SDK's default credential chain). */
  ecr?: (host: string) => RegistryApi;
}

/** How registry build caches are reached: per registry host, its credentials and (ECR) its control plane. */
export interface RegistryCacheAccess {
  /**
   * Credentials for the registry of a cache repository (`host[:port]/path`), asked once per host: the push's when it
   * is the push registry, an ECR token (as the push gets it) for an ECR host, else `REGISTRY_USERNAME` /
   * `REGISTRY_PASSWORD`; `undefined` for none (anonymous).
   * @throws {RegistryCacheError} naming the repository and registry (e.g. no AWS credentials for the ECR token).
   */
  credentials(repository: string): Promise<RegistryAuth | undefined>;
  /** The ECR control plane of an ECR cache repository, else `undefined`. */
  ecr(repository: string): RegistryApi | undefined;
}

/** Credentials and control planes for registry build caches, created lazily and shared by every image of a run. */
export function registryCacheAccess(options: RegistryCacheAccessOptions = {}): RegistryCacheAccess {
  const env = options.env ?? process.env;
  const ecrs = new Map<string, RegistryApi>();
  const credentials = new Map<string, Promise<RegistryAuth | undefined>>();
  const ecr = (repository: string): RegistryApi | undefined => {
    const { host, isEcr } = parseRegistryHost(repository);
    if (!isEcr) return undefined;
    if (!ecrs.has(host)) ecrs.set(host, options.ecr?.(host) ?? createEcrRegistry({ registryHost: host, env }));
    return ecrs.get(host);
  };
  const resolve = async (repository: string, host: string): Promise<RegistryAuth | undefined> => {
    const push = options.push;
    if (push?.auth && push.host?.toLowerCase() === host) return resolveRegistryAuth(push.auth);
    const api = ecr(repository);
    return api ? api.getRegistryAuth() : registryAuthFromEnv(host, env);
  };
  return {
    ecr,
    credentials(repository) {
      const { host } = parseRegistryHost(repository);
      let pending = credentials.get(host);
      if (!pending) {
        pending = resolve(repository, host).catch((error: unknown) => {
          throw new RegistryCacheError(repository, host, 'credentials', (error as Error).message, { cause: error });
        });
        credentials.set(host, pending);
      }
      return pending;
    },
  };
}

export interface PushBuildCacheOptions {
  engine: EngineRegistry & EngineImages;
  /** The cache repository written by the build (`cache.to`): every local `<repository>:<stage>` tag is pushed. */
  repository: string;
  access: RegistryCacheAccess;
  signal?: AbortSignal;
  onEvent?: (event: PushEvent) => void;
  /** `fetch` for the registry API (tests). */
  fetch?: typeof fetch;
}

/**
 * Pushes a build's registry cache: each stage image the build tagged `<repository>:<stage>`, with the registry's
 * credentials (`access`); on ECR with the ECR token, the repository created if missing with mutable tags (each
 * push moves them). Returns the tags pushed, sorted.
 * @throws {RegistryCacheError} naming the cache ref that failed and its registry (with the push error as `cause`).
 */
export async function pushBuildCache(options: PushBuildCacheOptions): Promise<string[]> {
  const { engine, repository, access } = options;
  const { host } = parseRegistryHost(repository);
  const images = await engine.listImages({ reference: [`${repository}:*`] });
  const prefix = `${repository}:`;
  const tags = [...new Set(images.flatMap((i) => i.repoTags))]
    .filter((ref) => ref.startsWith(prefix))
    .map((ref) => ref.slice(prefix.length))
    .sort();
  const ecr = access.ecr(repository);
  for (const [index, tag] of tags.entries()) {
    const auth = await access.credentials(repository);
    await pushImage({
      engine,
      image: `${prefix}${tag}`,
      repository,
      tags: [tag],
      ...(auth && { auth }),
      ...(ecr && { ecr, ensureRepository: index === 0 && { immutableSha: false } }),
      ...(options.signal && { signal: options.signal }),
      ...(options.onEvent && { onEvent: options.onEvent }),
      ...(options.fetch && { fetch: options.fetch }),
    }).catch((error: unknown) => {
      throw new RegistryCacheError(`${prefix}${tag}`, host, 'push', (error as Error).message, { cause: error });
    });
  }
  return tags;
}

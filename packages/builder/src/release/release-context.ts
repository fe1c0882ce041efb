import type { RegistrySettings } from '../config/registry-settings.js';
import { FourpassError } from '../errors/fourpass-error.js';
import type { ArtifactRegistry } from '../push/image-artifacts.js';
import { openRegistry } from '../push/open-registry.js';
import type { RegistryApi } from '../push/registry-api.js';
import type { RegistryAuthSource } from '../push/registry-auth.js';
import type { RegistryTimeouts } from '../push/registry-http-client.js';
import { errorText, withRetry, type RetryOptions } from '../push/retry.js';
import { ReleaseError } from './release-errors.js';
import type { ReleaseEvent } from './release-events.js';

/** What a release needs from a registry (the registry HTTP client implements it): manifests, small blobs, tags. */
export interface ReleaseRegistry extends ArtifactRegistry {
  /** The digest `reference` names, or undefined when there is no such manifest. */
  manifestDigest(name: string, reference: string): Promise<string | undefined>;
}

/** The registry side of releasing one repository. */
export interface ReleaseContext {
  registry: ReleaseRegistry;
  /** `host[:port]`. */
  host: string;
  /** The repository inside the registry, e.g. `4pass/api`. */
  name: string;
  /** `host[:port]/name`. */
  repository: string;
  /** The image's name in events and reports (the config's image name, or `name`). */
  image: string;
  retries?: RetryOptions;
  signal?: AbortSignal;
  redact: (text: string) => string;
  emit: (event: ReleaseEvent) => void;
  /** Test seam for backoff delays. */
  sleep?: (ms: number) => Promise<void>;
  /** Tags this release moved so far, in order (kept when a later step fails). */
  moved: { tag: string; digest: string }[];
}

/** How a release reaches the registry: settings, credentials and network bounds, as a push has them. */
export interface ReleaseAccess {
  /** The registry (`{ host }`, or ECR by account and region), as in `images.config.json`. */
  registry?: RegistrySettings;
  /** Default: ECR tokens for ECR registries, else `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`, else anonymous. */
  auth?: RegistryAuthSource;
  /** For `AWS_REGION`, `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` and the release record's actor (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The ECR control plane (tests); default the AWS SDK's default chain for ECR registries. */
  ecr?: RegistryApi;
  /** Transient-failure retries (default `{ max: 3, baseDelayMs: 1000 }`). */
  retries?: RetryOptions;
  /** Deadlines of each registry request (default 30 s for headers, 30 s of body silence). */
  timeouts?: RegistryTimeouts;
  signal?: AbortSignal;
  onEvent?: (event: ReleaseEvent) => void;
  /** `fetch` for the registry API (tests). */
  fetch?: typeof fetch;
  /** Test seam for backoff delays. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Opens repository `name` for a release, with credentials found the way a push finds them.
 * @throws {RegistrySettingsError} no registry configured, or ECR naming no endpoint.
 */
export async function openRelease(access: ReleaseAccess, name: string, image = name): Promise<ReleaseContext> {
  const { registry, auth, env, ecr, fetch, timeouts, signal } = access;
  const opened = await openRegistry({ name, registry, auth, env, ecr, fetch, timeouts, signal });
  return {
    registry: opened.client,
    host: opened.host,
    name: opened.name,
    repository: opened.repository,
    image,
    redact: (text) => opened.secrets.redact(text),
    emit: (event) => access.onEvent?.(event),
    moved: [],
    retries: access.retries,
    signal,
    sleep: access.sleep,
  };
}

/**
 * One registry operation of a release: transient failures retried with backoff (then a `RegistryServerError`,
 * `RegistryTimeoutError` or `RegistryUnavailableError`); any other failure a `ReleaseError` naming the operation.
 */
export async function registryCall<T>(ctx: ReleaseContext, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(
      {
        registry: ctx.host,
        operation,
        redact: ctx.redact,
        onRetry: (info) => ctx.emit({ type: 'retry', image: ctx.image, operation, ...info }),
        retries: ctx.retries,
        sleep: ctx.sleep,
        signal: ctx.signal,
      },
      fn,
    );
  } catch (error) {
    if (error instanceof FourpassError || ctx.signal?.aborted) throw error;
    throw new ReleaseError(ctx.repository, operation, ctx.redact(errorText(error)), { cause: error });
  }
}

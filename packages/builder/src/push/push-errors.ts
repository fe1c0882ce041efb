import { FourpassError } from '../errors/fourpass-error.js';

/**
 * Errors of the tag/push stage. None of them ever carries a password, token or auth header: messages are built from
 * registry names, tags, digests and the daemon's/registry's own text after `redactSecrets`.
 */

/** The registry rejected the credentials (`POST /auth`, a 401 from the registry API, or `unauthorized` while pushing). */
export class RegistryAuthError extends FourpassError {
  override readonly name = 'RegistryAuthError' as const;
  constructor(
    readonly registry: string,
    readonly username: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `registry ${registry} rejected the credentials${username ? ` of user "${username}"` : ''}: ${reason}. ` +
        `Check REGISTRY_USERNAME / REGISTRY_PASSWORD (generic registries) or the AWS credentials (ECR).`,
      options,
    );
  }
}

/** The registry could not be reached, kept refusing or resetting connections (after the bounded retries). */
export class RegistryUnavailableError extends FourpassError {
  override readonly name = 'RegistryUnavailableError' as const;
  constructor(
    readonly registry: string,
    readonly operation: string,
    readonly attempts: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${operation} failed: registry ${registry} is unavailable (${attempts} attempt${attempts === 1 ? '' : 's'}): ${reason}`,
      options,
    );
  }
}

/** The registry kept answering with a server error (5xx, or 429 Too Many Requests) after the bounded retries. */
export class RegistryServerError extends FourpassError {
  override readonly name = 'RegistryServerError' as const;
  constructor(
    readonly registry: string,
    readonly operation: string,
    readonly attempts: number,
    /** The HTTP status, when the registry's (or the daemon's) answer named one. */
    readonly status: number | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${operation} failed: registry ${registry} answered with a server error` +
        `${status ? ` (HTTP ${status})` : ''}, ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`,
      options,
    );
  }
}

/** An answer from the registry did not come within its deadline (after the bounded retries). */
export class RegistryTimeoutError extends FourpassError {
  override readonly name = 'RegistryTimeoutError' as const;
  constructor(
    readonly registry: string,
    readonly operation: string,
    readonly attempts: number,
    /** What was being waited for, e.g. `the response headers of HEAD http://…/v2/app/manifests/latest (30 s)`. */
    readonly waitingFor: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${operation} failed: timed out waiting for ${waitingFor} ` +
        `(${attempts} attempt${attempts === 1 ? '' : 's'})${timeoutDetail(waitingFor, reason)}`,
      options,
    );
  }
}

/** The reason without the waited-for text it repeats: `no progress for 2 s while waiting for X` → `: no progress for 2 s`. */
function timeoutDetail(waitingFor: string, reason: string): string {
  const detail = reason.replace(` while waiting for ${waitingFor}`, '');
  return detail && !detail.includes(waitingFor) && !waitingFor.includes(detail) ? `: ${detail}` : '';
}

/** The engine reported a push failure that is neither an auth problem nor transient (the daemon's own text). */
export class PushError extends FourpassError {
  override readonly name = 'PushError' as const;
  constructor(
    readonly repository: string,
    readonly tag: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`push of ${repository}${tag ? `:${tag}` : ''} failed: ${reason}`, options);
  }
}

/** The digest the registry serves for a tag is not the one we pushed (or the local image does not know it). */
export class DigestMismatchError extends FourpassError {
  override readonly name = 'DigestMismatchError' as const;
  constructor(
    readonly repository: string,
    readonly tag: string,
    readonly expected: string,
    readonly actual: string | undefined,
    readonly where: 'registry' | 'local image',
  ) {
    super(
      `digest check failed for ${repository}:${tag}: the ${where} has ${actual ?? 'no digest'}, expected ${expected}. ` +
        `Nothing else was tagged.`,
    );
  }
}

/** An immutable tag already points at another image: pushing it would need to overwrite it. */
export class TagImmutableError extends FourpassError {
  override readonly name = 'TagImmutableError' as const;
  constructor(
    readonly repository: string,
    readonly tag: string,
    readonly existingDigest: string | undefined,
    readonly attemptedDigest: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `tag ${tag} in ${repository} is immutable and already points at ${existingDigest ?? 'another image'}; ` +
        `refusing to move it to ${attemptedDigest ?? 'the new image'}. Rebuild from a new commit (new sha tag) instead.`,
      options,
    );
  }
}

/** The work tree has uncommitted changes, so the sha tag would not describe the image; refused for pushes. */
export class DirtyWorkTreeError extends FourpassError {
  override readonly name = 'DirtyWorkTreeError' as const;
  constructor(
    readonly cwd: string,
    readonly sha: string,
    readonly changes: readonly string[],
  ) {
    const shown = changes.slice(0, 10).map((c) => `  ${c}`);
    if (changes.length > 10) shown.push(`  … and ${changes.length - 10} more`);
    super(
      `refusing to push from a dirty work tree (${cwd}): tag sha-${sha.slice(0, 7)} would not describe the image. ` +
        `Commit or stash these changes, or allow it explicitly (allowDirty / --allow-dirty):\n${shown.join('\n')}`,
    );
  }
}

/** No commit sha could be found, or the one given is not a hex commit id. */
export class TagResolutionError extends FourpassError {
  override readonly name = 'TagResolutionError' as const;
  constructor(
    message: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An ECR API call failed (AWS error code and message; never credentials). */
export class EcrError extends FourpassError {
  override readonly name = 'EcrError' as const;
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`ECR ${operation} failed (${code}): ${reason}`, options);
  }
}

/** A registry build cache could not be reached: names the cache ref and its registry. */
export class RegistryCacheError extends FourpassError {
  override readonly name = 'RegistryCacheError' as const;
  constructor(
    /** `host[:port]/path:tag` (or the repository, for credentials). */
    readonly ref: string,
    readonly registry: string,
    readonly operation: 'credentials' | 'push',
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      operation === 'push'
        ? `pushing the build cache ${ref} to registry ${registry} failed: ${reason}`
        : `no credentials for the build cache ${ref} on registry ${registry}: ${reason}`,
      options,
    );
  }
}

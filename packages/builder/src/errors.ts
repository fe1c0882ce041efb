/**
 * Typed errors of @4pass/builder. Every error has a literal `name`, structured fields and, where there is one, the
 * underlying `cause`. Messages never contain credentials.
 */
export class FourpassError extends Error {
  override readonly name: string = 'FourpassError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The engine's Engine API range and ours do not meet, or a feature needs a version the engine does not speak:
 * names the engine, the feature and both versions (instead of a 404 from an endpoint the engine dropped).
 */
export class EngineApiVersionError extends FourpassError {
  override readonly name = 'EngineApiVersionError' as const;
  constructor(
    readonly address: string,
    readonly feature: string,
    /** What the engine speaks (`1.24–1.45`), with its Docker version. */
    readonly engineApi: string,
    /** What the feature or 4pass needs (`1.41–1.45`, `≥ 1.39`). */
    readonly required: string,
    hint: string,
  ) {
    super(`${feature} needs Engine API ${required}; the engine at ${address} speaks ${engineApi}. ${hint}`);
  }
}

/** No Docker engine answered at the resolved address. */
export class EngineUnavailableError extends FourpassError {
  override readonly name = 'EngineUnavailableError' as const;
  constructor(
    readonly address: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(
      `no Docker engine answers at ${address} (from ${source}). Start one (on Debian: "bash scripts/bootstrap.sh", ` +
        `or "setsid dockerd &"), or point DOCKER_HOST / DOCKER_CONTEXT at a running engine.`,
      options,
    );
  }
}

/**
 * The engine answered with an error to a request (HTTP status and the daemon's own message). `engine` names the
 * engine (`tcp://127.0.0.1:2376 (from DOCKER_HOST)`) when the adapter knows it.
 */
export class EngineRequestError extends FourpassError {
  override readonly name = 'EngineRequestError' as const;
  readonly engine: string | undefined;
  constructor(
    readonly operation: string,
    readonly statusCode: number | undefined,
    readonly daemonMessage: string,
    options?: { cause?: unknown; engine?: string },
  ) {
    const on = options?.engine ? ` on ${options.engine}` : '';
    super(`${operation}${on} failed${statusCode ? ` (HTTP ${statusCode})` : ''}: ${daemonMessage}`, options);
    this.engine = options?.engine;
  }
}

/** Which part of a TLS connection failed: one of our files (CA, client certificate, key) or the engine's certificate. */
export type TlsCertificate = 'ca' | 'cert' | 'key' | 'server';

/**
 * TLS to an engine failed: a certificate file is missing, unreadable or invalid (`file` names it), the engine's
 * certificate did not verify, or the engine rejected our client certificate. Never retried.
 */
export class EngineTlsError extends FourpassError {
  override readonly name = 'EngineTlsError' as const;
  constructor(
    readonly address: string,
    readonly source: string,
    readonly certificate: TlsCertificate,
    readonly file: string | undefined,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`TLS to engine ${address} (from ${source}): ${problem}`, options);
  }
}

/** SSH to an engine failed: host key unknown or changed, no key accepted, or the remote `docker system dial-stdio`. */
export class EngineSshError extends FourpassError {
  override readonly name = 'EngineSshError' as const;
  constructor(
    readonly address: string,
    readonly source: string,
    readonly stage: 'host-key' | 'auth' | 'connect' | 'remote',
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`SSH to engine ${address} (from ${source}): ${problem}`, options);
  }
}

/** A configuration file or option is invalid. `issues` lists every problem with its path. */
export class ConfigError extends FourpassError {
  override readonly name = 'ConfigError' as const;
  constructor(
    readonly file: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(`invalid config ${file}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/**
 * Registry settings that cannot work for a push — no registry configured, no AWS region for ECR — found before
 * anything is built. The message names the fix.
 */
export class RegistrySettingsError extends FourpassError {
  override readonly name = 'RegistrySettingsError' as const;
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Name a build context / Dockerfile problem (missing file, unreadable path). */
export class ContextError extends FourpassError {
  override readonly name = 'ContextError' as const;
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A repository reference is not `host[:port]/name` (lower-case path components, no tag or digest). */
export class InvalidRepositoryError extends FourpassError {
  override readonly name = 'InvalidRepositoryError' as const;
  constructor(
    readonly repository: string,
    readonly reason: string,
  ) {
    super(`invalid repository "${repository}": ${reason} (expected host[:port]/name, e.g. 127.0.0.1:5000/app)`);
  }
}

/**
 * The engine itself failed (does not answer, TLS or SSH to it failed), found anywhere in `error`'s cause chain:
 * the request was not the problem, so a pool gives that engine no more images.
 */
export function engineFailure(error: unknown): EngineUnavailableError | EngineTlsError | EngineSshError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof EngineUnavailableError || e instanceof EngineTlsError || e instanceof EngineSshError) return e;
  }
  return undefined;
}

/** The engine did not answer a request within its deadline (the request is abandoned). */
export class EngineTimeoutError extends FourpassError {
  override readonly name = 'EngineTimeoutError' as const;
  constructor(
    readonly address: string,
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`the engine at ${address} did not answer ${operation} within ${Math.round(timeoutMs / 1000)} s`);
  }
}

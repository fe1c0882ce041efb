import { FourpassError } from '../errors/fourpass-error.js';

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

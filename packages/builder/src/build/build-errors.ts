import { FourpassError } from '../errors/fourpass-error.js';

/**
 * A build failed on the engine. `step` names the failing step (e.g. `[builder 2/4] RUN make`), or is undefined for
 * frontend errors (Dockerfile parse error, unknown target) and errors raised before the stream started.
 */
export class BuildError extends FourpassError {
  override readonly name = 'BuildError' as const;
  readonly step: string | undefined;
  /** The failing step's last log lines (at most 10). */
  readonly logTail: readonly string[];
  /** The daemon's own message (`errorDetail.message`, or the HTTP error text). */
  readonly daemonMessage: string;
  /** The failing process's exit code, when the daemon reported one. */
  readonly exitCode: number | undefined;
  /** HTTP status when the engine refused the request before streaming. */
  readonly statusCode: number | undefined;

  constructor(fields: {
    step?: string | undefined;
    logTail?: readonly string[];
    daemonMessage: string;
    exitCode?: number | undefined;
    statusCode?: number | undefined;
    cause?: unknown;
  }) {
    const logTail = fields.logTail ?? [];
    const head = fields.step
      ? `step "${fields.step}" failed: ${fields.daemonMessage}`
      : `build failed: ${fields.daemonMessage}`;
    super(logTail.length ? `${head}\n${logTail.join('\n')}` : head, { cause: fields.cause });
    this.step = fields.step;
    this.logTail = logTail;
    this.daemonMessage = fields.daemonMessage;
    this.exitCode = fields.exitCode;
    this.statusCode = fields.statusCode;
  }
}

/** The build was canceled through its AbortSignal; it was also canceled on the engine. */
export class BuildCanceledError extends FourpassError {
  override readonly name = 'BuildCanceledError' as const;
  constructor(
    readonly buildId: string,
    options?: { cause?: unknown },
  ) {
    super(`build ${buildId} was canceled`, options);
  }
}

/** A base image named by a Dockerfile ARG default is neither present, pullable nor available as a local stand-in. */
export class BaseImageError extends FourpassError {
  override readonly name = 'BaseImageError' as const;
  constructor(
    readonly arg: string,
    readonly image: string,
    readonly triedFallback: string | undefined,
  ) {
    super(
      `base image ${image} (ARG ${arg}) is not in the engine and cannot be pulled` +
        (triedFallback ? `, and the local stand-in ${triedFallback} is missing` : '') +
        '. Run "bash scripts/bootstrap.sh" to create the local base images, or pass the build arg explicitly.',
    );
  }
}

/**
 * A step asked for build secrets (`RUN --mount=type=secret,id=…,required=true`) that were not given; BuildKit
 * refused the step. Names the ids and where they were expected to come from, never a value.
 */
export class BuildSecretMissingError extends FourpassError {
  override readonly name = 'BuildSecretMissingError' as const;
  constructor(
    readonly ids: readonly string[],
    readonly step: string | undefined,
    /** Ids that were given. */
    readonly given: readonly string[],
    /** id → where it comes from (`$NPM_TOKEN`, a file), for the ids that have a configured source. */
    readonly sources: Readonly<Record<string, string>>,
    options?: { cause?: unknown },
  ) {
    const what = ids.map((id) => `"${id}"${sources[id] ? ` (from ${sources[id]}, which is not set)` : ''}`).join(', ');
    super(
      `${step ? `step "${step}"` : 'the build'} needs the build secret${ids.length === 1 ? '' : 's'} ${what}, not given ` +
        `(given: ${given.length ? given.join(', ') : 'none'}). Configure it under "secrets" in images.config.json ` +
        `(from an environment variable or a file), or pass it in buildImage's secrets.`,
      options,
    );
  }
}

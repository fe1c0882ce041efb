import { EngineRequestError, EngineTimeoutError } from '../engine/engine-errors.js';
import { RegistryServerError, RegistryTimeoutError, RegistryUnavailableError } from './push-errors.js';

/**
 * Bounded exponential backoff for transient registry failures. Auth failures are never retried.
 * Defaults (`DEFAULT_RETRIES`): 3 retries after the first attempt, waiting 1 s, 2 s, 4 s (doubling, capped at
 * 15 s): at most 4 attempts and 7 s of waiting on top of the attempts' own deadlines.
 */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  max?: number;
  /** First delay (default 1000 ms); doubles per retry. */
  baseDelayMs?: number;
  /** Delay cap (default 15 s). */
  maxDelayMs?: number;
}

export const DEFAULT_RETRIES: Required<RetryOptions> = { max: 3, baseDelayMs: 1000, maxDelayMs: 15_000 };

/** Why a transient failure happened: a 5xx/429 answer, no connection (refused, reset, dropped), or no answer in time. */
export type TransientKind = 'server' | 'unavailable' | 'timeout';

/** A failure worth retrying; `reason` is already redacted. Its kind is derived from `reason` unless given. */
export class TransientFailure extends Error {
  override readonly name = 'TransientFailure' as const;
  readonly kind: TransientKind;
  readonly status: number | undefined;
  /** For timeouts: what was being waited for. */
  readonly waitingFor: string | undefined;
  constructor(
    readonly reason: string,
    details: { kind?: TransientKind; status?: number; waitingFor?: string } = {},
  ) {
    super(reason);
    const derived = transientKind(reason);
    this.kind = details.kind ?? derived.kind;
    this.status = details.status ?? (this.kind === 'server' ? derived.status : undefined);
    this.waitingFor = details.waitingFor;
  }
}

const SERVER_STATUS = /\b(?:HTTP(?: status)?|status(?: code)?):?\s*(5\d\d|429)\b/i;
const SERVER_TEXT = /too many requests|Throttling|ServerException|InternalFailure|ServiceUnavailable/i;
const TIMEOUT_TEXT = /timed? ?out|timeout|deadline exceeded|did not answer/i;

/** Sorts a transient failure's text: `received unexpected HTTP status: 500 …` → server 500, `i/o timeout` → timeout. */
export function transientKind(text: string): { kind: TransientKind; status?: number } {
  const status = SERVER_STATUS.exec(text)?.[1];
  if (status) return { kind: 'server', status: Number(status) };
  if (SERVER_TEXT.test(text))
    return /too many requests|Throttling/i.test(text) ? { kind: 'server', status: 429 } : { kind: 'server' };
  if (TIMEOUT_TEXT.test(text)) return { kind: 'timeout' };
  return { kind: 'unavailable' };
}

export type FailureKind = 'auth' | 'immutable' | 'transient' | 'fatal';

const AUTH =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password|\b401\b|denied|not authorized|authorization token has expired|invalid credentials/i;
const IMMUTABLE = /immutable|tag invalid.*already exists|ImageTagAlreadyExists|cannot be overwritten/i;
const TRANSIENT =
  /\b5\d\d\b|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|connection reset|connection refused|socket hang up|i\/o timeout|timed? ?out|unexpected EOF|\bEOF\b|temporarily unavailable|TLS handshake|broken pipe|too many requests|\b429\b|ServerException|Throttling|server misbehaving|no route to host/i;

/** Sorts a daemon/registry/ECR failure text into what we do with it. Auth beats everything (never retried). */
export function classifyFailure(message: string): FailureKind {
  if (AUTH.test(message)) return 'auth';
  if (IMMUTABLE.test(message)) return 'immutable';
  if (TRANSIENT.test(message)) return 'transient';
  return 'fatal';
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/**
 * True for errors worth another attempt: `TransientFailure`, network errors, 5xx engine errors with a transient text.
 * Not an unreachable ENGINE (EngineUnavailableError): that is no registry problem and fails at once.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof TransientFailure || error instanceof EngineTimeoutError) return true;
  if (error instanceof EngineRequestError) return classifyFailure(error.daemonMessage) === 'transient';
  if (error instanceof Error && error.name === 'EcrError') {
    const code = (error as Error & { code?: string }).code ?? '';
    return /ServerException|Throttling|TooManyRequests|ServiceUnavailable|InternalFailure|RequestTimeout/.test(code);
  }
  const code = (error as { code?: string; cause?: { code?: string } } | undefined)?.code;
  const causeCode = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  if ((code && NETWORK_CODES.has(code)) || (causeCode && NETWORK_CODES.has(causeCode))) return true;
  return error instanceof Error && /socket hang up|fetch failed|ECONNRESET/i.test(error.message);
}

export interface RetryContext {
  /** Host of the registry, for the final error. */
  registry: string;
  /** What is being done, e.g. `push 127.0.0.1:5000/app:sha-abc1234`. */
  operation: string;
  retries?: RetryOptions;
  /** Redacts secrets from reasons. */
  redact: (text: string) => string;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Runs `fn`, retrying transient failures with exponential backoff up to `retries.max` times. Non-transient errors
 * propagate at once, and so does any error once `signal` has aborted (no retry, no sleep). When the retries are used
 * up: {@link RegistryServerError} (5xx/429), {@link RegistryTimeoutError} (no answer in time) or
 * {@link RegistryUnavailableError} (no connection), with the last reason.
 */
export async function withRetry<T>(context: RetryContext, fn: (attempt: number) => Promise<T>): Promise<T> {
  const max = context.retries?.max ?? DEFAULT_RETRIES.max;
  const baseDelayMs = context.retries?.baseDelayMs ?? DEFAULT_RETRIES.baseDelayMs;
  const maxDelayMs = context.retries?.maxDelayMs ?? DEFAULT_RETRIES.maxDelayMs;
  const sleep = context.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (context.signal?.aborted || !isTransient(error)) throw error;
      if (attempt > max) throw exhausted(context, attempt, error);
      const delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      context.onRetry?.({ attempt, delayMs, reason: failureReason(context, error) });
      await sleep(delayMs, context.signal);
      if (context.signal?.aborted) throw error;
    }
  }
}

function failureReason(context: RetryContext, error: unknown): string {
  return context.redact(error instanceof TransientFailure ? error.reason : errorText(error));
}

/** The error for a transient failure that outlasted the retries, by kind. */
function exhausted(context: RetryContext, attempts: number, error: unknown): Error {
  const reason = failureReason(context, error);
  const failure =
    error instanceof TransientFailure
      ? error
      : error instanceof EngineTimeoutError
        ? new TransientFailure(reason, { kind: 'timeout', waitingFor: `the engine to answer ${error.operation}` })
        : new TransientFailure(reason);
  const { registry, operation } = context;
  if (failure.kind === 'server')
    return new RegistryServerError(registry, operation, attempts, failure.status, reason, { cause: error });
  if (failure.kind === 'timeout') {
    const waitingFor = failure.waitingFor ?? `an answer from registry ${registry}`;
    return new RegistryTimeoutError(registry, operation, attempts, waitingFor, reason, { cause: error });
  }
  return new RegistryUnavailableError(registry, operation, attempts, reason, { cause: error });
}

/** The most useful text of an error: engine errors carry the daemon's message; fetch errors their cause. */
export function errorText(error: unknown): string {
  if (error instanceof EngineRequestError) return error.daemonMessage;
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText =
      cause instanceof Error ? `${(cause as { code?: string }).code ?? ''} ${cause.message}`.trim() : '';
    return causeText && !error.message.includes(causeText) ? `${error.message}: ${causeText}` : error.message;
  }
  return String(error);
}

/** Waits `ms`, or less when `signal` aborts (the caller then stops). */
function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

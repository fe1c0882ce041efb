import { EngineRequestError, EngineUnavailableError } from '../errors.js';
import { RegistryUnavailableError } from './errors.js';

/** Bounded exponential backoff for transient registry failures. Auth failures are never retried. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  max?: number;
  /** First delay (default 1000 ms); doubles per retry. */
  baseDelayMs?: number;
  /** Delay cap (default 15 s). */
  maxDelayMs?: number;
}

/** A failure worth retrying (5xx, reset/refused connection, timeout); `reason` is already redacted. */
export class TransientFailure extends Error {
  override readonly name = 'TransientFailure' as const;
  constructor(readonly reason: string) {
    super(reason);
  }
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

/** True for errors worth another attempt: `TransientFailure`, network errors, 5xx engine errors with a transient text. */
export function isTransient(error: unknown): boolean {
  if (error instanceof TransientFailure) return true;
  if (error instanceof EngineUnavailableError) return true;
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
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Runs `fn`, retrying transient failures with exponential backoff up to `retries.max` times. Non-transient errors
 * propagate at once. When the retries are used up: `RegistryUnavailableError` with the last reason.
 */
export async function withRetry<T>(context: RetryContext, fn: (attempt: number) => Promise<T>): Promise<T> {
  const max = context.retries?.max ?? 3;
  const base = context.retries?.baseDelayMs ?? 1000;
  const cap = context.retries?.maxDelayMs ?? 15_000;
  const sleep = context.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isTransient(error)) throw error;
      const reason = context.redact(error instanceof TransientFailure ? error.reason : errorText(error));
      if (attempt > max || context.signal?.aborted) {
        throw new RegistryUnavailableError(context.registry, context.operation, attempt, reason);
      }
      const delayMs = Math.min(cap, base * 2 ** (attempt - 1));
      context.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs);
    }
  }
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

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

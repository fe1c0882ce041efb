import { describe, expect, it } from 'vitest';
import { RegistryServerError, RegistryTimeoutError, RegistryUnavailableError } from '@4pass/builder';
import { TransientFailure, transientKind, withRetry } from '../../../packages/builder/src/push/retry.js';

describe('transientKind', () => {
  it.each([
    ['received unexpected HTTP status: 500 Internal Server Error', { kind: 'server', status: 500 }],
    ['GET http://r/v2/x/tags/list → HTTP 503: oops', { kind: 'server', status: 503 }],
    ['toomanyrequests: too many requests', { kind: 'server', status: 429 }],
    ['ServerException: internal', { kind: 'server' }],
    ['Put "http://r/v2/x/blobs/uploads/": read tcp: connection reset by peer', { kind: 'unavailable' }],
    ['dial tcp 127.0.0.1:1: connect: connection refused', { kind: 'unavailable' }],
    ['net/http: TLS handshake timeout', { kind: 'timeout' }],
    ['Get "http://r/v2/": context deadline exceeded', { kind: 'timeout' }],
  ])('%s → %o', (text, expected) => expect(transientKind(text)).toEqual(expected));
});

const context = (retries = 2) => ({
  registry: '127.0.0.1:5000',
  operation: 'push 127.0.0.1:5000/app:sha-abc1234',
  retries: { max: retries, baseDelayMs: 1 },
  redact: (t: string) => t,
});

describe('withRetry', () => {
  it('a 500 that outlasts the retries is a RegistryServerError with the status, never "unavailable"', async () => {
    const error = await withRetry(context(), async () => {
      throw new TransientFailure('received unexpected HTTP status: 500 Internal Server Error');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryServerError);
    expect(error).toMatchObject({ status: 500, attempts: 3 });
    expect((error as Error).message).toBe(
      'push 127.0.0.1:5000/app:sha-abc1234 failed: registry 127.0.0.1:5000 answered with a server error (HTTP 500), ' +
        '3 attempts: received unexpected HTTP status: 500 Internal Server Error',
    );
    expect((error as Error).message).not.toMatch(/unavailable/);
  });

  it('a timeout names what was awaited', async () => {
    const waitingFor = 'the response headers of HEAD http://127.0.0.1:5000/v2/app/manifests/latest (30 s)';
    const error = await withRetry(context(1), async () => {
      throw new TransientFailure('no response headers within 30 s', { kind: 'timeout', waitingFor });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryTimeoutError);
    expect((error as Error).message).toBe(
      `push 127.0.0.1:5000/app:sha-abc1234 failed: timed out waiting for ${waitingFor} (2 attempts): ` +
        'no response headers within 30 s',
    );
  });

  it('a stalled stream names what was awaited once, with how long it was silent', async () => {
    const waitingFor = "the engine's push of 127.0.0.1:5000/app:sha-abc1234 (last: layer l1: Pushed)";
    const error = await withRetry(context(1), async () => {
      throw new TransientFailure(`no progress for 2 s while waiting for ${waitingFor}`, {
        kind: 'timeout',
        waitingFor,
      });
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `push 127.0.0.1:5000/app:sha-abc1234 failed: timed out waiting for ${waitingFor} (2 attempts): no progress for 2 s`,
    );
  });

  it('refused connections are "unavailable"', async () => {
    const error = await withRetry(context(0), async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), { code: 'ECONNREFUSED' });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error).toMatchObject({ attempts: 1 });
  });

  it('stops at once when the signal aborts: no further attempt, the original error', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const failure = new TransientFailure('connection reset by peer');
    const error = await withRetry({ ...context(5), signal: controller.signal }, async () => {
      attempts++;
      controller.abort();
      throw failure;
    }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(attempts).toBe(1);
  });

  it('an abort during the backoff ends the wait early', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetry(
      { ...context(1), retries: { max: 1, baseDelayMs: 60_000 }, signal: controller.signal },
      async () => {
        throw new TransientFailure('connection reset by peer');
      },
    ).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toBeInstanceOf(TransientFailure);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

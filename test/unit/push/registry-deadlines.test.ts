import { describe, expect, it } from 'vitest';
import { RegistryHttpClient } from '../../../packages/builder/src/push/registry-http-client.js';

const timeouts = { headersMs: 60, bodyIdleMs: 60 };

/** A fetch that never answers until its signal aborts (as undici does: it rejects with the signal's reason). */
const neverAnswers = (async (_input: unknown, init: RequestInit = {}) =>
  new Promise((_resolve, reject) => {
    init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
  })) as typeof fetch;

/** Answers GET with headers and a first chunk, then `then` (stall forever, or break off). */
function partialBody(then: 'stall' | 'drop'): typeof fetch {
  return (async (_input: unknown, init: RequestInit = {}) => {
    if (init.method === 'HEAD') return new Response(null, { status: 200 });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"schemaVersion":'));
        if (then === 'drop') {
          const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
          setTimeout(() => controller.error(new TypeError('terminated', { cause })), 5);
        }
      },
    });
    return new Response(body, { status: 200 });
  }) as typeof fetch;
}

const client = (fetchFn: typeof fetch, signal?: AbortSignal) =>
  new RegistryHttpClient({ host: '127.0.0.1:5000', scheme: 'http', fetch: fetchFn, timeouts, signal });

describe('RegistryHttpClient deadlines', () => {
  it('no response headers in time → a transient timeout naming the request', async () => {
    const started = Date.now();
    const error = await client(neverAnswers)
      .manifestDigest('app', 'latest')
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({
      name: 'TransientFailure',
      kind: 'timeout',
      waitingFor: 'the response headers of HEAD http://127.0.0.1:5000/v2/app/manifests/latest (60 ms)',
    });
  });

  it('a body that stalls mid-way → a transient timeout naming the body (not only the headers are bounded)', async () => {
    const error = await client(partialBody('stall'))
      .manifestDigest('app', 'latest')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'TransientFailure',
      kind: 'timeout',
      waitingFor: 'the body of GET /v2/app/manifests/latest from 127.0.0.1:5000 (no data for 60 ms)',
    });
  });

  it('a body that breaks off → transient, unavailable', async () => {
    const error = await client(partialBody('drop'))
      .manifestDigest('app', 'latest')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransientFailure', kind: 'unavailable' });
    expect((error as Error).message).toBe('GET /v2/app/manifests/latest: the body broke off: UND_ERR_SOCKET');
  });

  it('a 500 is a server error with its status, not "unavailable"', async () => {
    const error = await client((async () => new Response('boom', { status: 500 })) as typeof fetch)
      .listTags('app')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransientFailure', kind: 'server', status: 500 });
    expect((error as Error).message).toBe('GET http://127.0.0.1:5000/v2/app/tags/list → HTTP 500: boom');
  });

  it("the caller's abort stops a request at once and is never a transient failure", async () => {
    const controller = new AbortController();
    const pending = client(neverAnswers, controller.signal)
      .listTags('app')
      .catch((e: unknown) => e);
    controller.abort(new Error('interrupted'));
    const error = await pending;
    expect(error).toMatchObject({ message: 'interrupted' });
    expect((error as Error).name).not.toBe('TransientFailure');
  });
});

import { describe, expect, it } from 'vitest';
import { RegistryAuthError } from '@4pass/builder';
import { RegistryHttpClient } from '../../../packages/builder/src/push/registry-http-client.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const PASSWORD = 'http-client-secret-pw';

type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;
function fetchFrom(
  handler: Handler,
  log: { url: string; auth: string | undefined; method: string }[] = [],
): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    log.push({ url: String(input), auth: headers.get('authorization') ?? undefined, method: init.method ?? 'GET' });
    return handler(new URL(String(input)), init);
  }) as typeof fetch;
}

const basic = `Basic ${Buffer.from(`AWS:${PASSWORD}`).toString('base64')}`;

describe('RegistryHttpClient', () => {
  it('reads Docker-Content-Digest with basic auth (HEAD, docker v2 Accept first)', async () => {
    const log: { url: string; auth: string | undefined; method: string }[] = [];
    let accept = '';
    const client = new RegistryHttpClient({
      host: '127.0.0.1:5000',
      scheme: 'http',
      auth: { username: 'AWS', password: PASSWORD, serveraddress: '127.0.0.1:5000' },
      fetch: fetchFrom((_url, init) => {
        accept = new Headers(init.headers).get('accept') ?? '';
        return new Response(null, { status: 200, headers: { 'Docker-Content-Digest': DIGEST } });
      }, log),
    });
    expect(await client.manifestDigest('a/b', 'sha-abc1234')).toBe(DIGEST);
    expect(log).toEqual([{ url: 'http://127.0.0.1:5000/v2/a/b/manifests/sha-abc1234', auth: basic, method: 'HEAD' }]);
    expect(accept.split(',')[0]).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('does the bearer token dance (realm, service, scope) and caches the token per scope', async () => {
    const log: { url: string; auth: string | undefined; method: string }[] = [];
    const fetchFn = fetchFrom((url, init) => {
      const auth = new Headers(init.headers).get('authorization');
      if (url.host === 'auth.example.com') {
        expect(url.searchParams.get('service')).toBe('registry.example.com');
        expect(url.searchParams.get('scope')).toBe('repository:app:pull');
        return auth === basic ? Response.json({ token: 'bearer-token-1' }) : new Response(null, { status: 401 });
      }
      if (auth === 'Bearer bearer-token-1') {
        return new Response(null, { status: 200, headers: { 'Docker-Content-Digest': DIGEST } });
      }
      return new Response(null, {
        status: 401,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"',
        },
      });
    }, log);
    const client = new RegistryHttpClient({
      host: 'registry.example.com',
      scheme: 'https',
      auth: { username: 'AWS', password: PASSWORD, serveraddress: 'registry.example.com' },
      fetch: fetchFn,
    });
    expect(await client.manifestDigest('app', 'latest')).toBe(DIGEST);
    expect(await client.manifestDigest('app', 'sha-abc1234')).toBe(DIGEST);
    expect(
      log.map((l) => `${l.method} ${new URL(l.url).host}${new URL(l.url).pathname} ${l.auth?.split(' ')[0]}`),
    ).toEqual([
      'HEAD registry.example.com/v2/app/manifests/latest Basic',
      'GET auth.example.com/token Basic',
      'HEAD registry.example.com/v2/app/manifests/latest Bearer',
      'HEAD registry.example.com/v2/app/manifests/sha-abc1234 Bearer',
    ]);
  });

  it('hashes the manifest body when HEAD has no digest header', async () => {
    const body = '{"schemaVersion":2}';
    const { createHash } = await import('node:crypto');
    const client = new RegistryHttpClient({
      host: 'r.example.com',
      scheme: 'https',
      fetch: fetchFrom((_u, init) =>
        init.method === 'HEAD' ? new Response(null, { status: 200 }) : new Response(body),
      ),
    });
    expect(await client.manifestDigest('x', 'y')).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
  });

  it('404 → undefined; 401 after basic → RegistryAuthError without the password; 5xx and network errors → transient', async () => {
    const auth = { username: 'AWS', password: PASSWORD, serveraddress: 'r' };
    const notFound = new RegistryHttpClient({
      host: 'r',
      scheme: 'http',
      auth,
      fetch: fetchFrom(() => new Response(null, { status: 404 })),
    });
    expect(await notFound.manifestDigest('x', 'y')).toBeUndefined();
    expect(await notFound.listTags('x')).toBeUndefined();

    const denied = new RegistryHttpClient({
      host: 'r',
      scheme: 'http',
      auth,
      fetch: fetchFrom(() => new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } })),
    });
    const error = await denied.manifestDigest('x', 'y').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(JSON.stringify(error) + String(error)).not.toContain(PASSWORD);

    const down = new RegistryHttpClient({
      host: 'r',
      scheme: 'http',
      auth,
      fetch: fetchFrom(() => new Response('oops', { status: 503 })),
    });
    await expect(down.manifestDigest('x', 'y')).rejects.toMatchObject({ name: 'TransientFailure' });
    const refused = new RegistryHttpClient({
      host: 'r',
      scheme: 'http',
      auth,
      fetch: (async () => {
        throw Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        });
      }) as typeof fetch,
    });
    await expect(refused.listTags('x')).rejects.toMatchObject({
      name: 'TransientFailure',
      reason: 'GET http://r/v2/x/tags/list: ECONNREFUSED',
    });
  });
});

import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DigestMismatchError,
  RegistryAuthError,
  RegistryUnavailableError,
  TagImmutableError,
  type EnsureRepositoryOptions,
  type PushEvent,
  type PushImageOptions,
  type RegistryApi,
  type RetagOptions,
} from '@4pass/builder';
import { pushImage } from '../../../packages/builder/src/push/push-image.js';
import { createRegistryAuth } from '../../../packages/builder/src/push/registry-auth.js';
import { authError, DIGEST_A, DIGEST_B, fakeEngine, fakeRegistryFetch, IMAGE_ID, pushStream } from './fakes.js';

const HOST = 'reg.example.com';
const REPO = `${HOST}/4pass/api`;
const PASSWORD = 'p4ss-W0rd-that-must-never-leak';
const SHA = 'sha-abc1234';

/** Everything any test produced (events, results, errors): checked for the password at the end. */
const produced: unknown[] = [];
afterAll(() => {
  const text = produced
    .map(
      (p) =>
        `${JSON.stringify(p, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message } : v))}\n${inspect(p, { depth: Infinity, showHidden: true })}`,
    )
    .join('\n');
  expect(produced.length).toBeGreaterThan(20);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(Buffer.from(`AWS:${PASSWORD}`).toString('base64'));
});

const noSleep = async () => {};

function run(options: Partial<PushImageOptions> & Pick<PushImageOptions, 'engine'>) {
  const events: PushEvent[] = [];
  const promise = pushImage({
    image: 'local/api:dev',
    repository: REPO,
    tags: [SHA, 'latest'],
    auth: createRegistryAuth({ username: 'AWS', password: PASSWORD, serveraddress: HOST }),
    onEvent: (e) => {
      events.push(e);
      produced.push(e);
    },
    sleep: noSleep,
    ...options,
  }).then(
    (result) => {
      produced.push(result);
      return result;
    },
    (error: unknown) => {
      produced.push(error);
      throw error;
    },
  );
  return { events, promise };
}

describe('pushImage on a generic registry', () => {
  it('checks auth, pushes and verifies the sha tag, then points latest in the registry; the engine gets the real credentials', async () => {
    const registry = new Map<string, string>();
    const requests: string[] = [];
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const { events, promise } = run({ engine, fetch: fakeRegistryFetch(registry, requests) });
    const result = await promise;
    expect(engine.calls).toEqual([
      `checkAuth ${HOST}`,
      'inspect local/api:dev',
      `tag ${REPO}:${SHA}`,
      `push ${REPO}:${SHA}`,
      `inspect ${IMAGE_ID}`,
    ]);
    // latest is never a local tag: the verified manifest is copied under it in the registry.
    expect(requests).toEqual([
      `HEAD https://${HOST}/v2/4pass/api/manifests/${SHA}`,
      `HEAD https://${HOST}/v2/4pass/api/manifests/latest`,
      `GET https://${HOST}/v2/4pass/api/manifests/${DIGEST_A}`,
      `PUT https://${HOST}/v2/4pass/api/manifests/latest`,
      `HEAD https://${HOST}/v2/4pass/api/manifests/latest`,
    ]);
    expect(result).toEqual({
      repository: REPO,
      digest: DIGEST_A,
      tags: [
        { tag: SHA, digest: DIGEST_A, via: 'engine-push' },
        { tag: 'latest', digest: DIGEST_A, via: 'registry-api' },
      ],
      layers: { pushed: 1, existing: 0, mounted: 1, total: 2 },
      localRefs: [`${REPO}:${SHA}`],
    });
    // The redacting credentials object reaches the engine as a plain copy, so X-Registry-Auth carries the password.
    expect(engine.authSeen.every((a) => JSON.parse(a).password === PASSWORD)).toBe(true);
    expect(events).toContainEqual({
      type: 'layer',
      tag: SHA,
      layer: 'l1',
      status: 'Pushing',
      current: 512,
      total: 1024,
    });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['auth-ok', 'tag-pushed', 'digest-verified', 'tag-pointed']),
    );
  });

  it('bad credentials fail at once: RegistryAuthError naming the registry, nothing tagged or pushed, no retry', async () => {
    const engine = fakeEngine({ checkAuth: () => authError(), push: () => [] });
    const { events, promise } = run({ engine, fetch: fakeRegistryFetch(new Map()) });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toMatch(
      /^registry reg\.example\.com rejected the credentials of user "AWS": login attempt/,
    );
    expect(engine.calls).toEqual([`checkAuth ${HOST}`]);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
  });

  it('an unreachable registry at the credential check is retried with backoff, then RegistryUnavailableError', async () => {
    const engine = fakeEngine({
      checkAuth: () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }),
      push: () => [],
    });
    const { events, promise } = run({ engine, retries: { max: 3, baseDelayMs: 100 } });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error).toMatchObject({ attempts: 4, registry: HOST });
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { delayMs: number }).delayMs)).toEqual([
      100, 200, 400,
    ]);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([]);
  });

  it('"Retrying in" from the daemon stops the push at once; if the credentials now fail, RegistryAuthError (no 75 s loop)', async () => {
    const engine = fakeEngine({
      checkAuth: (n) => (n > 1 ? authError() : undefined),
      push: () => [
        { status: 'Preparing', progressDetail: {}, id: 'l1' },
        { status: 'Retrying in 5 seconds', progressDetail: {}, id: 'l1' },
        { status: 'Retrying in 4 seconds', progressDetail: {}, id: 'l1' },
        { errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized' },
      ],
    });
    const { events, promise } = run({ engine, fetch: fakeRegistryFetch(new Map()) });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(engine.pushSignals[0]?.aborted).toBe(true);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([`push ${REPO}:${SHA}`]);
    expect(events).toContainEqual({ type: 'daemon-retry', tag: SHA, layer: 'l1', status: 'Retrying in 5 seconds' });
  });

  it('"Retrying in" with good credentials is treated as transient: the push is retried and succeeds', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({
      registry,
      push: ({ tag, n }) =>
        n === 1
          ? [{ status: 'Retrying in 5 seconds', progressDetail: {}, id: 'l1' }]
          : pushStream(tag, DIGEST_A, 'Layer already exists'),
    });
    const { events, promise } = run({ engine, fetch: fakeRegistryFetch(registry) });
    const result = await promise;
    expect(result.digest).toBe(DIGEST_A);
    expect(result.layers).toEqual({ pushed: 0, existing: 1, mounted: 1, total: 2 });
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('retries 5xx / reset connections with exponential backoff, bounded', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({
      registry,
      push: ({ tag, n }) => {
        if (n === 1) return [{ errorDetail: { message: 'received unexpected HTTP status: 503 Service Unavailable' } }];
        if (n === 2) return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return pushStream(tag, DIGEST_A);
      },
    });
    const { events, promise } = run({
      engine,
      fetch: fakeRegistryFetch(registry),
      retries: { max: 3, baseDelayMs: 50 },
    });
    await expect(promise).resolves.toMatchObject({ digest: DIGEST_A });
    const retries = events.filter((e) => e.type === 'retry') as Extract<PushEvent, { type: 'retry' }>[];
    expect(retries.map((r) => r.delayMs)).toEqual([50, 100]);
    expect(retries[0]?.reason).toContain('503 Service Unavailable');
  });

  it('gives up after the bound; latest is never pushed', async () => {
    const engine = fakeEngine({ push: () => [{ errorDetail: { message: 'read tcp: connection reset by peer' } }] });
    const { promise } = run({ engine, fetch: fakeRegistryFetch(new Map()), retries: { max: 2, baseDelayMs: 1 } });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect((error as Error).message).toBe(
      `push ${REPO}:${SHA} failed: registry ${HOST} is unavailable (3 attempts): read tcp: connection reset by peer`,
    );
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual(Array(3).fill(`push ${REPO}:${SHA}`));
  });

  it('an auth error while pushing is never retried', async () => {
    const engine = fakeEngine({
      push: () => [{ errorDetail: { message: 'denied: requested access to the resource is denied' } }],
    });
    const { promise } = run({ engine, fetch: fakeRegistryFetch(new Map()) });
    await expect(promise).rejects.toBeInstanceOf(RegistryAuthError);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toHaveLength(1);
  });

  it('a registry digest that differs from the pushed one stops before latest', async () => {
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A) });
    const served = new Map([[`4pass/api:${SHA}`, DIGEST_B]]);
    const { promise } = run({ engine, fetch: fakeRegistryFetch(served) });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: DIGEST_A, actual: DIGEST_B, where: 'registry', tag: SHA });
    expect(engine.calls).not.toContain(`push ${REPO}:latest`);
    expect(engine.calls).not.toContain(`tag ${REPO}:latest`);
  });

  it('a local image that does not know the pushed digest stops before latest', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry, recordDigests: false });
    const { promise } = run({ engine, fetch: fakeRegistryFetch(registry) });
    await expect(promise).rejects.toMatchObject({ name: 'DigestMismatchError', where: 'local image' });
    expect(engine.calls).not.toContain(`push ${REPO}:latest`);
  });

  it('a failure while pointing latest leaves the verified sha tag and reports it', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ registry, push: ({ tag }) => pushStream(tag, DIGEST_A) });
    const serve = fakeRegistryFetch(registry);
    const refusing = (async (input: string | URL | Request, init?: RequestInit) =>
      init?.method === 'PUT'
        ? new Response('{"errors":[{"code":"MANIFEST_INVALID","message":"something odd"}]}', { status: 400 })
        : serve(input, init)) as typeof fetch;
    const { promise } = run({ engine, fetch: refusing });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PushError', tag: 'latest' });
    expect((error as Error).message).toMatch(/HTTP 400: .*something odd/);
    expect(registry.get(`4pass/api:${SHA}`)).toBe(DIGEST_A);
    expect(registry.has('4pass/api:latest')).toBe(false);
  });

  it('a re-push of an image the registry already serves under its tags pushes nothing and moves nothing', async () => {
    const registry = new Map([
      [`4pass/api:${SHA}`, DIGEST_A],
      ['4pass/api:latest', DIGEST_A],
    ]);
    const requests: string[] = [];
    const engine = fakeEngine({ registry, push: ({ tag }) => pushStream(tag, DIGEST_A) });
    engine.repoDigests.push(`${REPO}@${DIGEST_A}`);
    const { events, promise } = run({ engine, fetch: fakeRegistryFetch(registry, requests) });
    const result = await promise;
    expect(engine.calls.filter((c) => c.startsWith('push') || c.startsWith('tag'))).toEqual([]);
    expect(requests.filter((r) => !r.startsWith('HEAD'))).toEqual([]);
    expect(result.tags).toEqual([
      { tag: SHA, digest: DIGEST_A, via: 'unchanged' },
      { tag: 'latest', digest: DIGEST_A, via: 'unchanged' },
    ]);
    expect(result.localRefs).toEqual([]);
    expect(events.filter((e) => e.type === 'tag-unchanged').map((e) => e.tag)).toEqual([SHA, 'latest']);
  });

  it('an engine push stream that goes silent is abandoned after its deadline and retried, saying what it waited for', async () => {
    const engine = fakeEngine({ push: () => [{ status: 'Preparing', progressDetail: {}, id: 'l1' }] });
    const silent = engine.push.bind(engine);
    engine.push = async (repo, tag, auth, signal) => {
      const lines = await silent(repo, tag, auth, signal);
      return (async function* () {
        yield* lines;
        await new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
      })();
    };
    const { events, promise } = run({
      engine,
      fetch: fakeRegistryFetch(new Map()),
      retries: { max: 1, baseDelayMs: 1 },
      timeouts: { streamIdleMs: 50 },
    });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryTimeoutError', attempts: 2 });
    expect((error as Error).message).toContain(
      `timed out waiting for the engine's push of ${REPO}:${SHA} (last: layer l1: Preparing)`,
    );
    expect(engine.pushSignals.every((s) => s.aborted)).toBe(true);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('an abort between the sha tag and latest moves nothing more', async () => {
    const registry = new Map<string, string>();
    const controller = new AbortController();
    const engine = fakeEngine({ registry, push: ({ tag }) => pushStream(tag, DIGEST_A) });
    const { promise } = run({
      engine,
      fetch: fakeRegistryFetch(registry),
      signal: controller.signal,
      beforePointingTags: async () => controller.abort(new Error('interrupted')),
    });
    await expect(promise).rejects.toThrow('interrupted');
    expect(registry.get(`4pass/api:${SHA}`)).toBe(DIGEST_A);
    expect(registry.has('4pass/api:latest')).toBe(false);
  });

  it('rejects invalid tags and repositories before touching the engine', async () => {
    const engine = fakeEngine({ push: () => [] });
    await expect(run({ engine, tags: [] }).promise).rejects.toMatchObject({ name: 'PushError' });
    await expect(run({ engine, tags: ['bad tag'] }).promise).rejects.toMatchObject({ name: 'PushError' });
    await expect(run({ engine, repository: 'noregistry' }).promise).rejects.toMatchObject({
      name: 'InvalidRepositoryError',
    });
    expect(engine.calls).toEqual([]);
  });

  it('takes credentials from REGISTRY_USERNAME/REGISTRY_PASSWORD when none are given', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const saved = { u: process.env.REGISTRY_USERNAME, p: process.env.REGISTRY_PASSWORD };
    process.env.REGISTRY_USERNAME = 'robot';
    process.env.REGISTRY_PASSWORD = PASSWORD;
    try {
      const events: PushEvent[] = [];
      const result = await pushImage({
        engine,
        image: 'local/api:dev',
        repository: REPO,
        tags: [SHA],
        onEvent: (e) => events.push(e),
        fetch: fakeRegistryFetch(registry),
      });
      produced.push(result, events);
      expect(JSON.parse(engine.authSeen[0] ?? '{}')).toEqual({
        serveraddress: HOST,
        username: 'robot',
        password: PASSWORD,
      });
      expect(events).toContainEqual({ type: 'auth-ok', registry: HOST, username: 'robot' });
    } finally {
      if (saved.u === undefined) delete process.env.REGISTRY_USERNAME;
      else process.env.REGISTRY_USERNAME = saved.u;
      if (saved.p === undefined) delete process.env.REGISTRY_PASSWORD;
      else process.env.REGISTRY_PASSWORD = saved.p;
    }
  });
});

describe('pushImage on ECR', () => {
  const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  const ECR_REPO = `${ECR_HOST}/4pass/api`;

  function fakeEcr(overrides: Partial<RegistryApi> = {}) {
    const calls: string[] = [];
    const api: RegistryApi = {
      registryHost: ECR_HOST,
      async getRegistryAuth() {
        calls.push('getRegistryAuth');
        return createRegistryAuth({ username: 'AWS', password: PASSWORD, serveraddress: ECR_HOST });
      },
      async ensureRepository(options: EnsureRepositoryOptions) {
        calls.push(`ensureRepository ${options.name}`);
        return {
          name: options.name,
          created: true,
          updated: [],
          lifecyclePolicyApplied: true,
          tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          warnings: [],
        };
      },
      async getTagDigest(repository: string, tag: string) {
        calls.push(`getTagDigest ${repository}:${tag}`);
        return undefined;
      },
      async retag(options: RetagOptions) {
        calls.push(`retag ${options.repository} ${options.fromDigest} → ${options.toTag}`);
        return { digest: options.fromDigest ?? '' };
      },
      ...overrides,
    };
    return { api, calls };
  }

  it('ensures the repository, uses the ECR token, pushes only the sha tag and points latest with PutImage', async () => {
    const registry = new Map<string, string>();
    const requests: string[] = [];
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const { api, calls } = fakeEcr();
    const { events, promise } = run({
      engine,
      repository: ECR_REPO,
      auth: undefined,
      ecr: api,
      fetch: fakeRegistryFetch(registry, requests),
    });
    const result = await promise;
    expect(calls).toEqual(['ensureRepository 4pass/api', 'getRegistryAuth', `retag 4pass/api ${DIGEST_A} → latest`]);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([`push ${ECR_REPO}:${SHA}`]);
    expect(requests).toEqual([`HEAD https://${ECR_HOST}/v2/4pass/api/manifests/${SHA}`]);
    expect(result.tags).toEqual([
      { tag: SHA, digest: DIGEST_A, via: 'engine-push' },
      { tag: 'latest', digest: DIGEST_A, via: 'ecr-put-image' },
    ]);
    expect(result.repositoryResult?.created).toBe(true);
    expect(events[0]).toMatchObject({ type: 'repository', repository: ECR_REPO });
  });

  it('an immutable sha tag holding another image → TagImmutableError with both digests; latest untouched', async () => {
    const engine = fakeEngine({
      push: () => [
        {
          errorDetail: {
            message: `tag invalid: The image tag '${SHA}' already exists in the '4pass/api' repository and cannot be overwritten because the repository is immutable.`,
          },
        },
      ],
    });
    engine.repoDigests.push(`${ECR_REPO}@${DIGEST_B}`); // what our local image was pushed as before
    const { api, calls } = fakeEcr({ getTagDigest: async () => DIGEST_A });
    const { promise } = run({ engine, repository: ECR_REPO, ecr: api, fetch: fakeRegistryFetch(new Map()) });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TagImmutableError);
    expect(error).toMatchObject({ tag: SHA, existingDigest: DIGEST_A, attemptedDigest: DIGEST_B });
    expect((error as Error).message).toContain(DIGEST_A);
    expect((error as Error).message).toContain(DIGEST_B);
    expect(calls.some((c) => c.startsWith('retag'))).toBe(false);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toHaveLength(1); // not retried
  });

  it('an immutable sha tag already holding this very image is success (identical re-run)', async () => {
    const registry = new Map([[`4pass/api:${SHA}`, DIGEST_A]]);
    const engine = fakeEngine({
      push: () => [{ errorDetail: { message: `tag invalid: The image tag '${SHA}' already exists ... immutable.` } }],
      registry,
    });
    engine.repoDigests.push(`${ECR_REPO}@${DIGEST_A}`);
    const { api } = fakeEcr({ getTagDigest: async () => DIGEST_A });
    const result = await run({ engine, repository: ECR_REPO, ecr: api, fetch: fakeRegistryFetch(registry) }).promise;
    expect(result.digest).toBe(DIGEST_A);
    expect(result.layers.pushed).toBe(0);
    expect(result.tags.map((t) => t.tag)).toEqual([SHA, 'latest']);
  });

  it('a retag conflict on latest surfaces the TagImmutableError from the registry API', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const { api } = fakeEcr({
      retag: async () => {
        throw new TagImmutableError(ECR_REPO, 'latest', DIGEST_B, DIGEST_A);
      },
    });
    await expect(
      run({ engine, repository: ECR_REPO, ecr: api, fetch: fakeRegistryFetch(registry) }).promise,
    ).rejects.toMatchObject({
      name: 'TagImmutableError',
      tag: 'latest',
    });
  });
});

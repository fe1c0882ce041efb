import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  LifecyclePolicyNotFoundException,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryCacheError, registryCacheAccess } from '@4pass/builder/internal';
import { pushBuildCache } from '../../../packages/builder/src/push/registry-cache.js';
import { createRegistryAuth } from '../../../packages/builder/src/push/registry-auth.js';
import { DIGEST_A, ecrTokenResponse, fakeEngine, fakeRegistryFetch, pushStream } from './fakes.js';

const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const CACHE = `${ECR_HOST}/4pass/cache/worker`;
const TOKEN = 'ecr-cache-token-never-printed';
const meta = { $metadata: {} };
const ecr = mockClient(ECRClient);
afterEach(() => ecr.reset());

function ecrToken() {
  ecr.on(GetAuthorizationTokenCommand).resolves(ecrTokenResponse(ECR_HOST, TOKEN));
}

describe('registryCacheAccess: credentials per cache registry', () => {
  it('an ECR cache repository gets the ECR token (as the push does), asked once per registry', async () => {
    ecrToken();
    const access = registryCacheAccess({ env: { REGISTRY_PASSWORD: 'not-for-ecr' } });
    const auth = await access.credentials(CACHE);
    expect(auth).toMatchObject({ serveraddress: ECR_HOST, username: 'AWS', password: TOKEN });
    expect(await access.credentials(`${ECR_HOST}/4pass/cache/api`)).toBe(auth);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    expect(JSON.stringify(auth)).not.toContain(TOKEN);
  });

  it("any other registry: the push's credentials on the push registry, else REGISTRY_USERNAME / REGISTRY_PASSWORD", async () => {
    const pushAuth = createRegistryAuth({ serveraddress: '127.0.0.1:5000', username: 'ci', password: 'push-pw' });
    const env = { REGISTRY_USERNAME: 'robot', REGISTRY_PASSWORD: 'env-pw' };
    const access = registryCacheAccess({ push: { host: '127.0.0.1:5000', auth: pushAuth }, env });
    expect(await access.credentials('127.0.0.1:5000/4pass/cache/api')).toMatchObject({ password: 'push-pw' });
    expect(await access.credentials('cache.example.com/4pass/api')).toMatchObject({
      serveraddress: 'cache.example.com',
      username: 'robot',
      password: 'env-pw',
    });
    expect(await registryCacheAccess({ env: {} }).credentials('cache.example.com/4pass/api')).toBeUndefined();
    expect(ecr.calls()).toHaveLength(0);
  });

  it('no AWS credentials for the ECR token: a RegistryCacheError naming the cache and its registry', async () => {
    ecr.on(GetAuthorizationTokenCommand).rejects(new Error('Could not load credentials from any providers'));
    const error = await registryCacheAccess({ env: {} })
      .credentials(CACHE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryCacheError);
    expect(error).toMatchObject({ ref: CACHE, registry: ECR_HOST, operation: 'credentials' });
    expect((error as Error).message).toContain(`no credentials for the build cache ${CACHE} on registry ${ECR_HOST}`);
  });
});

describe('pushBuildCache', () => {
  /** A fake engine with the cache's stage images tagged locally. */
  function engineWithCache(tags: string[]) {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const images = [{ id: 'sha256:1', repoTags: tags.map((t) => `${CACHE}:${t}`), labels: {} }];
    Object.assign(engine, { listImages: async () => images });
    return { engine, registry };
  }

  it('pushes every stage tag to ECR with the ECR token, into a repository created with mutable tags', async () => {
    ecrToken();
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: 'nope', ...meta }));
    ecr.on(CreateRepositoryCommand).resolves({ repository: { repositoryName: '4pass/cache/worker' } });
    ecr.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    ecr.on(BatchGetImageCommand).resolves({ images: [] });
    const { engine, registry } = engineWithCache(['runtime', 'builder', 'compile-venv']);
    const pushed = await pushBuildCache({
      engine,
      repository: CACHE,
      access: registryCacheAccess({ env: {} }),
      fetch: fakeRegistryFetch(registry),
    });
    expect(pushed).toEqual(['builder', 'compile-venv', 'runtime']);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual(pushed.map((t) => `push ${CACHE}:${t}`));
    const auths = engine.authSeen.map((a) => JSON.parse(a) as Record<string, string>);
    expect(auths.every((a) => a.password === TOKEN && a.serveraddress === ECR_HOST)).toBe(true);
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(1);
    expect(ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toMatchObject({
      repositoryName: '4pass/cache/worker',
      imageTagMutability: 'MUTABLE',
    });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
  });

  it('a failed push names the cache ref and the registry', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: () => new Error('connection refused'), registry });
    Object.assign(engine, {
      listImages: async () => [{ id: 'sha256:1', repoTags: ['127.0.0.1:5000/c/api:web'], labels: {} }],
    });
    const error = await pushBuildCache({
      engine,
      repository: '127.0.0.1:5000/c/api',
      access: registryCacheAccess({ env: {} }),
      fetch: fakeRegistryFetch(registry),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryCacheError', ref: '127.0.0.1:5000/c/api:web', operation: 'push' });
    expect((error as Error).message).toMatch(
      /^pushing the build cache 127\.0\.0\.1:5000\/c\/api:web to registry 127\.0\.0\.1:5000 failed: /,
    );
  });
});

import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  LifecyclePolicyNotFoundException,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { pushToRegistry, RegistrySettingsError, resolveRegistryHost, type PushEvent } from '@4pass/builder/internal';
import { DIGEST_A, ecrTokenResponse, fakeEngine, fakeRegistryFetch, pushStream } from './fakes.js';

const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const TOKEN = 'ecr-token-value-never-printed';
const PASSWORD = 'generic-registry-password';
const SHA = 'sha-abc1234';
const meta = { $metadata: {} };
const ecr = mockClient(ECRClient);
afterEach(() => ecr.reset());

describe('resolveRegistryHost', () => {
  it('prefers the host (the --registry override), else builds the ECR host from account and region', () => {
    expect(resolveRegistryHost({ host: '127.0.0.1:5000', region: 'eu-west-1', accountId: '123456789012' })).toBe(
      '127.0.0.1:5000',
    );
    expect(resolveRegistryHost({ host: 'https://reg.example.com/' })).toBe('reg.example.com');
    expect(resolveRegistryHost({ region: 'eu-west-1', accountId: '123456789012' })).toBe(ECR_HOST);
    expect(resolveRegistryHost({ accountId: '123456789012' }, { AWS_REGION: 'eu-west-1' })).toBe(ECR_HOST);
    // Region alone is a valid ECR destination, but its host is only known from the authorization token.
    expect(() => resolveRegistryHost({ region: 'eu-west-1' })).toThrow(RegistrySettingsError);
    expect(() => resolveRegistryHost()).toThrow(/--registry HOST\[:PORT\]/);
  });
});

describe('pushToRegistry', () => {
  it('--registry overrides the configured ECR registry, keeps the repository name, uses REGISTRY_* credentials', async () => {
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const result = await pushToRegistry({
      engine,
      image: 'local/api:dev',
      name: '4pass/api',
      registry: { host: '127.0.0.1:5000', region: 'eu-west-1', accountId: '123456789012' },
      tags: [SHA, 'latest'],
      env: { REGISTRY_USERNAME: 'robot', REGISTRY_PASSWORD: PASSWORD },
      fetch: fakeRegistryFetch(registry),
    });
    expect(result.repository).toBe('127.0.0.1:5000/4pass/api');
    expect(result.tags.map((t) => t.via)).toEqual(['engine-push', 'registry-api']);
    expect(JSON.parse(engine.authSeen[0] ?? '{}')).toEqual({
      serveraddress: '127.0.0.1:5000',
      username: 'robot',
      password: PASSWORD,
    });
    expect(ecr.calls()).toHaveLength(0);
    expect(inspect(result, { depth: Infinity })).not.toContain(PASSWORD);
  });

  it('for an ECR registry: ensures the repository, pushes with the ECR token, points latest via PutImage', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves(ecrTokenResponse(ECR_HOST, TOKEN));
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: 'nope', ...meta }));
    ecr
      .on(CreateRepositoryCommand)
      .resolves({ repository: { repositoryName: '4pass/api', repositoryUri: `${ECR_HOST}/4pass/api` } });
    ecr.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageDigest: DIGEST_A },
          imageManifest: '{"schemaVersion":2}',
          imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        },
      ],
    });
    ecr.on(PutImageCommand).resolves({});
    const registry = new Map<string, string>();
    const requests: string[] = [];
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const events: PushEvent[] = [];
    const result = await pushToRegistry({
      engine,
      image: 'local/api:dev',
      name: '4pass/api',
      registry: { region: 'eu-west-1', accountId: '123456789012' },
      tags: [SHA, 'latest'],
      env: {},
      onEvent: (e) => events.push(e),
      fetch: fakeRegistryFetch(registry, requests),
    });
    expect(result).toMatchObject({
      repository: `${ECR_HOST}/4pass/api`,
      digest: DIGEST_A,
      tags: [
        { tag: SHA, digest: DIGEST_A, via: 'engine-push' },
        { tag: 'latest', digest: DIGEST_A, via: 'ecr-put-image' },
      ],
      repositoryResult: { created: true, lifecyclePolicyApplied: true, tagMutability: 'IMMUTABLE_WITH_EXCLUSION' },
    });
    expect(JSON.parse(engine.authSeen[0] ?? '{}')).toEqual({
      serveraddress: ECR_HOST,
      username: 'AWS',
      password: TOKEN,
    });
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([`push ${ECR_HOST}/4pass/api:${SHA}`]);
    expect(ecr.commandCalls(PutImageCommand)[0]?.args[0].input).toMatchObject({
      imageTag: 'latest',
      imageDigest: DIGEST_A,
    });
    expect(requests).toEqual([`HEAD https://${ECR_HOST}/v2/4pass/api/manifests/${SHA}`]);
    const shown = `${JSON.stringify(result)}${JSON.stringify(events)}${inspect([result, events], { depth: Infinity })}`;
    expect(shown).not.toContain(TOKEN);
  });

  it('for ECR by region alone: the registry host comes from the authorization token, no account id needed', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves(ecrTokenResponse(ECR_HOST, TOKEN));
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: '4pass/api' }] });
    ecr.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    const registry = new Map<string, string>();
    const engine = fakeEngine({ push: ({ tag }) => pushStream(tag, DIGEST_A), registry });
    const result = await pushToRegistry({
      engine,
      image: 'local/api:dev',
      name: '4pass/api',
      registry: {},
      tags: [SHA],
      env: { AWS_REGION: 'eu-west-1' },
      fetch: fakeRegistryFetch(registry),
    });
    expect(result.repository).toBe(`${ECR_HOST}/4pass/api`);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({});
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([`push ${ECR_HOST}/4pass/api:${SHA}`]);
  });
});

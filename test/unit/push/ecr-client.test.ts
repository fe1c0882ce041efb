import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  ImageAlreadyExistsException,
  ImageTagAlreadyExistsException,
  InvalidParameterException,
  LifecyclePolicyNotFoundException,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  ServerException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcrError, TagImmutableError, TagResolutionError } from '@4pass/builder';
import { createEcrRegistry, ecrAuthProvider } from '../../../packages/builder/src/push/ecr-client.js';
import { releaseLifecyclePolicy } from '../../../packages/builder/src/push/lifecycle-policy.js';
import { ecrTokenResponse } from './fakes.js';

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const TOKEN_PASSWORD = 'eyJwYXlsb2FkIjoic2VjcmV0LWVjci10b2tlbi12YWx1ZSJ9';
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
});

const ecr = mockClient(ECRClient);
const meta = { $metadata: {} };

beforeEach(() => ecr.reset());
afterEach(() => ecr.reset());

const tokenResponse = (expiresAt: Date) => ecrTokenResponse(HOST, TOKEN_PASSWORD, expiresAt);

describe('EcrRegistry: region and account', () => {
  it('takes region and account from the registry host', () => {
    const registry = createEcrRegistry({ registryHost: HOST, env: {} });
    expect(registry.region).toBe('eu-west-1');
    expect(registry.accountId).toBe('123456789012');
    expect(registry.registryHost).toBe(HOST);
  });

  it('falls back to AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(createEcrRegistry({ env: { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'x' } }).region).toBe('us-east-2');
    expect(createEcrRegistry({ env: { AWS_DEFAULT_REGION: 'ap-south-1' } }).region).toBe('ap-south-1');
    expect(createEcrRegistry({ region: 'sa-east-1', accountId: '210987654321', env: {} }).registryHost).toBe(
      '210987654321.dkr.ecr.sa-east-1.amazonaws.com',
    );
  });

  it('fails clearly without any region', () => {
    expect(() => createEcrRegistry({ env: {} })).toThrow(TagResolutionError);
    expect(() => createEcrRegistry({ env: {} })).toThrow(/no AWS region/);
  });
});

describe('EcrRegistry.getRegistryAuth (GetAuthorizationToken)', () => {
  it('decodes AWS:<token> and uses the proxy endpoint host as server address', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves(tokenResponse(new Date(Date.now() + 12 * 3600_000)));
    const auth = await createEcrRegistry({ registryHost: HOST }).getRegistryAuth();
    expect(auth.username).toBe('AWS');
    expect(auth.password).toBe(TOKEN_PASSWORD);
    expect(auth.serveraddress).toBe(HOST);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({ registryIds: ['123456789012'] });
  });

  it('caches the token until 5 minutes before expiresAt, then fetches a new one', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const expiresAt = new Date(now + 12 * 3600_000);
    ecr.on(GetAuthorizationTokenCommand).resolves(tokenResponse(expiresAt));
    const registry = createEcrRegistry({ registryHost: HOST, now: () => now });
    await registry.getRegistryAuth();
    now = expiresAt.getTime() - 5 * 60_000 - 1; // just before the refresh point
    await registry.getRegistryAuth();
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    now = expiresAt.getTime() - 5 * 60_000; // refresh point reached
    await registry.getRegistryAuth();
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(2);
  });

  it('shares one request between concurrent callers, through ecrAuthProvider too', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves(tokenResponse(new Date(Date.now() + 3600_000)));
    const registry = createEcrRegistry({ registryHost: HOST });
    const provider = ecrAuthProvider(registry);
    const results = await Promise.all([
      registry.getRegistryAuth(),
      registry.getRegistryAuth(),
      (provider as () => Promise<unknown>)(),
    ]);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    expect(results[0]).toBe(results[1]);
  });

  it('never shows the token when the credentials are serialised or inspected', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves(tokenResponse(new Date(Date.now() + 3600_000)));
    const auth = await createEcrRegistry({ registryHost: HOST }).getRegistryAuth();
    const shown = `${JSON.stringify(auth)}\n${inspect(auth)}\n${inspect({ nested: { auth } }, { depth: 5 })}`;
    expect(shown).not.toContain(TOKEN_PASSWORD);
    expect(shown).toContain('***');
    expect(shown).toContain(HOST);
    expect(Object.keys(auth).sort()).toEqual(['password', 'serveraddress', 'username']);
  });

  it('rejects a malformed token with an EcrError that does not echo it', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('no-colon-here-secretvalue').toString('base64') }],
    });
    const error = await createEcrRegistry({ registryHost: HOST })
      .getRegistryAuth()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcrError);
    expect((error as EcrError).code).toBe('MalformedToken');
    expect(inspect(error, { depth: 10 })).not.toContain('secretvalue');
  });
});

describe('EcrRegistry.ensureRepository', () => {
  it('creates a missing repository with scan on push, immutable tags except latest, and the lifecycle policy', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: 'not found', ...meta }));
    ecr
      .on(CreateRepositoryCommand)
      .resolves({ repository: { repositoryName: '4pass/api', repositoryUri: `${HOST}/4pass/api` } });
    ecr.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    const result = await createEcrRegistry({ registryHost: HOST }).ensureRepository({ name: '4pass/api' });
    expect(result).toMatchObject({
      created: true,
      lifecyclePolicyApplied: true,
      tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      updated: [],
    });
    expect(ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toEqual({
      repositoryName: '4pass/api',
      registryId: '123456789012',
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
    });
    const policy = JSON.parse(
      ecr.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input.lifecyclePolicyText ?? '{}',
    );
    // latest, the last 10 releases, the last 20 sha images, untagged after a day (test/unit/push/lifecycle-policy.test.ts).
    expect(policy).toEqual(releaseLifecyclePolicy());
    expect(policy.rules.map((r: { selection: { tagPatternList?: string[] } }) => r.selection.tagPatternList)).toEqual([
      ['latest'],
      ['release-*'],
      ['sha-*'],
      undefined,
    ]);
  });

  it('leaves an existing, matching repository alone and does not re-apply an identical policy (key order differs)', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        {
          repositoryName: '4pass/api',
          imageScanningConfiguration: { scanOnPush: true },
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        },
      ],
    });
    const desired = releaseLifecyclePolicy();
    // Same document, keys in another order (as ECR may return it).
    const reordered = {
      rules: desired.rules.map(({ rulePriority, description, selection, action }) => ({
        action,
        selection: Object.fromEntries(Object.entries(selection).reverse()),
        description,
        rulePriority,
      })),
    };
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(desired));
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify(reordered) });
    const result = await createEcrRegistry({ registryHost: HOST }).ensureRepository({ name: '4pass/api' });
    expect(result).toMatchObject({ created: false, lifecyclePolicyApplied: false, updated: [] });
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
    expect(ecr.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0);
    expect(ecr.commandCalls(PutImageTagMutabilityCommand)).toHaveLength(0);
    expect(ecr.commandCalls(PutImageScanningConfigurationCommand)).toHaveLength(0);
  });

  it('applies the policy when it differs, and brings drifted settings back', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        {
          repositoryName: '4pass/api',
          imageScanningConfiguration: { scanOnPush: false },
          imageTagMutability: 'MUTABLE',
        },
      ],
    });
    const older = releaseLifecyclePolicy({ releases: 30 });
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify(older) });
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    ecr.on(PutImageTagMutabilityCommand).resolves({});
    ecr.on(PutImageScanningConfigurationCommand).resolves({});
    const result = await createEcrRegistry({ registryHost: HOST }).ensureRepository({ name: '4pass/api' });
    expect(result).toMatchObject({
      created: false,
      lifecyclePolicyApplied: true,
      updated: ['scanOnPush', 'tagMutability'],
    });
    expect(JSON.parse(ecr.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input.lifecyclePolicyText ?? '')).toEqual(
      releaseLifecyclePolicy(),
    );
    expect(ecr.commandCalls(PutImageTagMutabilityCommand)[0]?.args[0].input).toMatchObject({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
    });
  });

  it('falls back to MUTABLE (with a warning) where tag-mutability exclusions are rejected', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: 'not found', ...meta }));
    ecr
      .on(CreateRepositoryCommand, { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' })
      .rejects(new InvalidParameterException({ message: 'Invalid parameter: imageTagMutability', ...meta }))
      .on(CreateRepositoryCommand, { imageTagMutability: 'MUTABLE' })
      .resolves({ repository: { repositoryName: 'x' } });
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify(releaseLifecyclePolicy()) });
    const result = await createEcrRegistry({ registryHost: HOST }).ensureRepository({ name: 'x' });
    expect(result).toMatchObject({ created: true, tagMutability: 'MUTABLE', lifecyclePolicyApplied: false });
    expect(result.warnings[0]).toMatch(/fell back to MUTABLE/);
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(2);
  });

  it('wraps other AWS errors in EcrError with the operation and code', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(new ServerException({ message: 'boom', ...meta }));
    const error = await createEcrRegistry({ registryHost: HOST })
      .ensureRepository({ name: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcrError);
    expect((error as Error).message).toBe('ECR DescribeRepositories failed (ServerException): boom');
  });
});

describe('EcrRegistry.retag (BatchGetImage + PutImage)', () => {
  function sourceImage(digest: string) {
    return {
      images: [
        {
          imageId: { imageDigest: digest, imageTag: 'sha-abc1234' },
          imageManifest: MANIFEST,
          imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        },
      ],
      failures: [],
    };
  }

  it('puts the source manifest under the new tag', async () => {
    ecr.on(BatchGetImageCommand).resolves(sourceImage(DIGEST_A));
    ecr.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: DIGEST_A, imageTag: 'latest' } } });
    const out = await createEcrRegistry({ registryHost: HOST }).retag({
      repository: '4pass/api',
      fromDigest: DIGEST_A,
      toTag: 'latest',
    });
    expect(out).toEqual({ digest: DIGEST_A });
    expect(ecr.commandCalls(BatchGetImageCommand)[0]?.args[0].input).toMatchObject({
      repositoryName: '4pass/api',
      imageIds: [{ imageDigest: DIGEST_A }],
    });
    expect(ecr.commandCalls(PutImageCommand)[0]?.args[0].input).toEqual({
      repositoryName: '4pass/api',
      registryId: '123456789012',
      imageManifest: MANIFEST,
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      imageDigest: DIGEST_A,
      imageTag: 'latest',
    });
  });

  it('treats ImageAlreadyExistsException (tag already names this manifest) as success', async () => {
    ecr.on(BatchGetImageCommand).resolves(sourceImage(DIGEST_A));
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'exists', ...meta }));
    await expect(
      createEcrRegistry({ registryHost: HOST }).retag({
        repository: '4pass/api',
        fromTag: 'sha-abc1234',
        toTag: 'latest',
      }),
    ).resolves.toEqual({ digest: DIGEST_A });
  });

  it('treats ImageTagAlreadyExistsException with the same digest as success', async () => {
    ecr.on(BatchGetImageCommand).resolves(sourceImage(DIGEST_A));
    ecr.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'tag exists', ...meta }));
    await expect(
      createEcrRegistry({ registryHost: HOST }).retag({
        repository: '4pass/api',
        fromDigest: DIGEST_A,
        toTag: 'sha-abc1234',
      }),
    ).resolves.toEqual({ digest: DIGEST_A });
  });

  it('surfaces an immutable-tag conflict as TagImmutableError naming the tag and both digests', async () => {
    ecr
      .on(BatchGetImageCommand, { imageIds: [{ imageDigest: DIGEST_B }] })
      .resolves(sourceImage(DIGEST_B))
      .on(BatchGetImageCommand, { imageIds: [{ imageTag: 'sha-abc1234' }] })
      .resolves(sourceImage(DIGEST_A));
    ecr.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'tag exists', ...meta }));
    const error = await createEcrRegistry({ registryHost: HOST })
      .retag({ repository: '4pass/api', fromDigest: DIGEST_B, toTag: 'sha-abc1234' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TagImmutableError);
    expect(error).toMatchObject({ tag: 'sha-abc1234', existingDigest: DIGEST_A, attemptedDigest: DIGEST_B });
    expect((error as Error).message).toContain('sha-abc1234');
    expect((error as Error).message).toContain(DIGEST_A);
    expect((error as Error).message).toContain(DIGEST_B);
    expect((error as Error).message).toContain(`${HOST}/4pass/api`);
  });

  it('getTagDigest returns undefined for a missing tag or repository', async () => {
    ecr
      .on(BatchGetImageCommand, { repositoryName: 'a' })
      .resolves({
        images: [],
        failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
      })
      .on(BatchGetImageCommand, { repositoryName: 'b' })
      .rejects(new RepositoryNotFoundException({ message: 'nope', ...meta }));
    const registry = createEcrRegistry({ registryHost: HOST });
    expect(await registry.getTagDigest('a', 'latest')).toBeUndefined();
    expect(await registry.getTagDigest('b', 'latest')).toBeUndefined();
  });
});

/**
 * The ECR adapter: the only file importing the AWS SDK. Everything else depends on `RegistryApi`.
 * Credentials come from the SDK's default provider chain (env keys, SSO, web identity/OIDC in CI, IMDS…).
 */
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  type ImageTagMutability,
  type ImageTagMutabilityExclusionFilter,
  type Repository,
} from '@aws-sdk/client-ecr';
import { isDeepStrictEqual } from 'node:util';
import type { RegistryAuth } from '../engine/engine.js';
import { EcrError, TagImmutableError, TagResolutionError } from './push-errors.js';
import { createRegistryAuth, type RegistryAuthSource } from './registry-auth.js';
import { releaseLifecyclePolicy, type LifecyclePolicyOptions } from './lifecycle-policy.js';
import {
  type EnsureRepositoryOptions,
  type EnsureRepositoryResult,
  type RegistryApi,
  type RetagOptions,
} from './registry-api.js';
import { parseRegistryHost } from '../references/registry-host.js';

/** Manifest media types we accept from `BatchGetImage` (what docker 20.10+ and BuildKit push). */
const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface EcrRegistryOptions {
  /** `<account>.dkr.ecr.<region>.amazonaws.com`; gives region and account when those are not set. */
  registryHost?: string;
  /** Default: from `registryHost`, then `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Default: from `registryHost`; otherwise the caller's default registry. */
  accountId?: string;
  env?: NodeJS.ProcessEnv;
  /** An SDK client to use (tests, custom endpoints); default `new ECRClient({ region })` with the default chain. */
  client?: ECRClient;
  /** Refresh the token this long before `expiresAt` (default 5 minutes). */
  refreshBeforeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface CachedAuth {
  auth: RegistryAuth;
  refreshAt: number;
}

/**
 * ECR through the AWS SDK v3: registry credentials (cached), repositories as code, server-side retagging.
 * Stateful (token cache), hence a class.
 */
export class EcrRegistry implements RegistryApi {
  readonly region: string;
  readonly accountId: string | undefined;
  /** Known from the options, or learnt from the first authorization token's `proxyEndpoint`. */
  registryHost: string;
  private readonly client: ECRClient;
  private readonly refreshBeforeMs: number;
  private readonly now: () => number;
  private cached: CachedAuth | undefined;
  private pending: Promise<RegistryAuth> | undefined;

  /** @throws {TagResolutionError} when no region can be found. */
  constructor(options: EcrRegistryOptions = {}) {
    const env = options.env ?? process.env;
    const fromHost = options.registryHost ? parseRegistryHost(`${options.registryHost}/x`) : undefined;
    const region = options.region ?? fromHost?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new TagResolutionError(
        'no AWS region: pass region, use an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com) or set AWS_REGION',
        'ecr',
      );
    }
    this.region = region;
    this.accountId = options.accountId ?? fromHost?.accountId;
    this.registryHost =
      options.registryHost ?? (this.accountId ? `${this.accountId}.dkr.ecr.${region}.amazonaws.com` : '');
    this.client = options.client ?? new ECRClient({ region });
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * `GetAuthorizationToken`, decoded to `{ username: 'AWS', password, serveraddress }`, cached until
   * `refreshBeforeMs` before `expiresAt`. The returned object redacts its password when serialised.
   * @throws {EcrError}
   */
  async getRegistryAuth(): Promise<RegistryAuth> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.auth;
    // Concurrent callers share one request.
    this.pending ??= this.fetchAuth().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchAuth(): Promise<RegistryAuth> {
    const out = await this.call('GetAuthorizationToken', () =>
      this.client.send(new GetAuthorizationTokenCommand(this.accountId ? { registryIds: [this.accountId] } : {})),
    );
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) {
      throw new EcrError('GetAuthorizationToken', 'EmptyResponse', 'no authorizationData in the response');
    }
    const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new EcrError('GetAuthorizationToken', 'MalformedToken', 'the token is not "user:password"');
    const host = data.proxyEndpoint
      ? data.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '')
      : this.registryHost;
    this.registryHost ||= host;
    const auth = createRegistryAuth({
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      serveraddress: host,
    });
    // ECR tokens live 12 hours; without expiresAt, assume one hour to be safe.
    const expiresAt = data.expiresAt ? data.expiresAt.getTime() : this.now() + 3_600_000;
    this.cached = { auth, refreshAt: expiresAt - this.refreshBeforeMs };
    return auth;
  }

  /**
   * Creates the repository if missing (scan on push; tags immutable except `latest`), brings scan/mutability
   * settings of an existing one in line, and applies the lifecycle policy only when it differs (parsed JSON compare).
   * @throws {EcrError}
   */
  async ensureRepository(options: EnsureRepositoryOptions): Promise<EnsureRepositoryResult> {
    const name = options.name;
    const scanOnPush = options.scanOnPush ?? true;
    const desired = desiredMutability(options);
    const existing = await this.describeRepository(name);
    const made = existing
      ? { repository: existing, created: false, mutability: desired, warnings: [] }
      : await this.createRepository(name, scanOnPush, desired);
    const reconciled =
      !made.created && made.repository
        ? await this.reconcileRepository(made.repository, name, scanOnPush, made.mutability)
        : { updated: [], mutability: made.mutability, warnings: [] };
    const lifecyclePolicyApplied =
      options.lifecyclePolicy !== false && (await this.applyLifecyclePolicy(name, options.lifecyclePolicy));
    return {
      name,
      uri: made.repository?.repositoryUri,
      created: made.created,
      updated: reconciled.updated,
      lifecyclePolicyApplied,
      tagMutability: reconciled.mutability.imageTagMutability,
      warnings: [...made.warnings, ...reconciled.warnings],
    };
  }

  /**
   * `CreateRepository`, again with MUTABLE tags where exclusions are refused. A repository created meanwhile by
   * someone else is fine: it is described and then reconciled like any existing one.
   */
  private async createRepository(
    name: string,
    scanOnPush: boolean,
    desired: Mutability,
  ): Promise<{ repository: Repository | undefined; created: boolean; mutability: Mutability; warnings: string[] }> {
    const create = (m: Mutability) =>
      this.client.send(
        new CreateRepositoryCommand({
          repositoryName: name,
          registryId: this.accountId,
          imageScanningConfiguration: { scanOnPush },
          imageTagMutability: m.imageTagMutability,
          imageTagMutabilityExclusionFilters: m.filters,
        }),
      );
    const warnings: string[] = [];
    let mutability = desired;
    try {
      let out;
      try {
        out = await create(mutability);
      } catch (error) {
        if (!exclusionUnsupported(error, mutability)) throw error;
        warnings.push(fallbackWarning(error));
        mutability = MUTABLE;
        out = await create(mutability);
      }
      return { repository: out.repository, created: true, mutability, warnings };
    } catch (error) {
      if (errorName(error) !== 'RepositoryAlreadyExistsException') throw toEcrError('CreateRepository', error);
      return { repository: await this.describeRepository(name), created: false, mutability, warnings };
    }
  }

  /** Brings an existing repository's scan-on-push and tag-mutability settings in line with the desired ones. */
  private async reconcileRepository(
    repository: Repository,
    name: string,
    scanOnPush: boolean,
    mutability: Mutability,
  ): Promise<{ updated: string[]; mutability: Mutability; warnings: string[] }> {
    const updated: string[] = [];
    if ((repository.imageScanningConfiguration?.scanOnPush ?? false) !== scanOnPush) {
      await this.call('PutImageScanningConfiguration', () =>
        this.client.send(
          new PutImageScanningConfigurationCommand({
            repositoryName: name,
            registryId: this.accountId,
            imageScanningConfiguration: { scanOnPush },
          }),
        ),
      );
      updated.push('scanOnPush');
    }
    const current = {
      imageTagMutability: repository.imageTagMutability,
      filters: repository.imageTagMutabilityExclusionFilters,
    };
    if (sameMutability(current, mutability)) return { updated, mutability, warnings: [] };
    const tags = await this.putTagMutability(name, mutability, repository.imageTagMutability);
    if (tags.updated) updated.push('tagMutability');
    return { updated, mutability: tags.mutability, warnings: tags.warnings };
  }

  /** `PutImageTagMutability`; where exclusions are refused, MUTABLE instead (unless it is MUTABLE already). */
  private async putTagMutability(
    name: string,
    mutability: Mutability,
    current: string | undefined,
  ): Promise<{ updated: boolean; mutability: Mutability; warnings: string[] }> {
    const put = (m: Mutability) =>
      this.client.send(
        new PutImageTagMutabilityCommand({
          repositoryName: name,
          registryId: this.accountId,
          imageTagMutability: m.imageTagMutability,
          imageTagMutabilityExclusionFilters: m.filters,
        }),
      );
    try {
      await put(mutability);
      return { updated: true, mutability, warnings: [] };
    } catch (error) {
      if (!exclusionUnsupported(error, mutability)) throw toEcrError('PutImageTagMutability', error);
      const warnings = [fallbackWarning(error)];
      if (current === 'MUTABLE') return { updated: false, mutability: MUTABLE, warnings };
      await this.call('PutImageTagMutability', () => put(MUTABLE));
      return { updated: true, mutability: MUTABLE, warnings };
    }
  }

  /** Puts the release lifecycle policy unless the repository has an equal one; true when it was put. */
  private async applyLifecyclePolicy(name: string, counts: LifecyclePolicyOptions | undefined): Promise<boolean> {
    const desired = releaseLifecyclePolicy(counts);
    const current = await this.getLifecyclePolicy(name);
    if (current !== undefined && isDeepStrictEqual(current, desired)) return false;
    await this.call('PutLifecyclePolicy', () =>
      this.client.send(
        new PutLifecyclePolicyCommand({
          repositoryName: name,
          registryId: this.accountId,
          lifecyclePolicyText: JSON.stringify(desired),
        }),
      ),
    );
    return true;
  }

  /** @throws {EcrError} */
  async getTagDigest(repository: string, tag: string): Promise<string | undefined> {
    const image = await this.batchGetImage(repository, { imageTag: tag });
    return image?.digest;
  }

  /**
   * `BatchGetImage` (the source manifest) + `PutImage` (same manifest under `toTag`). `ImageAlreadyExistsException`
   * (the tag already names this manifest) is success; `ImageTagAlreadyExistsException` is success only when the
   * existing tag has the same digest, otherwise a `TagImmutableError` naming both digests.
   * @throws {TagImmutableError | EcrError}
   */
  async retag(options: RetagOptions): Promise<{ digest: string }> {
    const { repository, toTag } = options;
    if (!options.fromTag && !options.fromDigest)
      throw new EcrError('BatchGetImage', 'InvalidParameter', 'fromTag or fromDigest is required');
    const source = await this.batchGetImage(
      repository,
      options.fromDigest ? { imageDigest: options.fromDigest } : { imageTag: options.fromTag },
    );
    if (!source) {
      throw new EcrError(
        'BatchGetImage',
        'ImageNotFound',
        `${repository}@${options.fromDigest ?? options.fromTag} does not exist`,
      );
    }
    try {
      await this.client.send(
        new PutImageCommand({
          repositoryName: repository,
          registryId: this.accountId,
          imageManifest: source.manifest,
          imageManifestMediaType: source.mediaType,
          imageDigest: source.digest,
          imageTag: toTag,
        }),
      );
      return { digest: source.digest };
    } catch (error) {
      const name = errorName(error);
      if (name === 'ImageAlreadyExistsException') return { digest: source.digest };
      if (name === 'ImageTagAlreadyExistsException') {
        const existing = await this.getTagDigest(repository, toTag);
        if (existing === source.digest) return { digest: source.digest };
        throw new TagImmutableError(`${this.registryHost}/${repository}`, toTag, existing, source.digest);
      }
      throw toEcrError('PutImage', error);
    }
  }

  private async batchGetImage(
    repository: string,
    imageId: { imageTag?: string; imageDigest?: string },
  ): Promise<{ digest: string; manifest: string; mediaType: string | undefined } | undefined> {
    let out;
    try {
      out = await this.client.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          registryId: this.accountId,
          imageIds: [imageId],
          acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
        }),
      );
    } catch (error) {
      if (errorName(error) === 'RepositoryNotFoundException') return undefined;
      throw toEcrError('BatchGetImage', error);
    }
    const image = out.images?.[0];
    if (!image?.imageManifest || !image.imageId?.imageDigest) {
      const failure = out.failures?.[0];
      if (!failure || failure.failureCode === 'ImageNotFound' || failure.failureCode === 'ImageTagDoesNotMatchDigest') {
        return undefined;
      }
      throw new EcrError('BatchGetImage', failure.failureCode ?? 'Failure', failure.failureReason ?? 'unknown failure');
    }
    return {
      digest: image.imageId.imageDigest,
      manifest: image.imageManifest,
      mediaType: image.imageManifestMediaType,
    };
  }

  private async describeRepository(name: string): Promise<Repository | undefined> {
    try {
      const out = await this.client.send(
        new DescribeRepositoriesCommand({ repositoryNames: [name], registryId: this.accountId }),
      );
      return out.repositories?.[0];
    } catch (error) {
      if (errorName(error) === 'RepositoryNotFoundException') return undefined;
      throw toEcrError('DescribeRepositories', error);
    }
  }

  private async getLifecyclePolicy(name: string): Promise<unknown> {
    try {
      const out = await this.client.send(
        new GetLifecyclePolicyCommand({ repositoryName: name, registryId: this.accountId }),
      );
      if (!out.lifecyclePolicyText) return undefined;
      try {
        return JSON.parse(out.lifecyclePolicyText) as unknown;
      } catch {
        return out.lifecyclePolicyText; // unparsable: differs from ours, so it gets replaced
      }
    } catch (error) {
      if (errorName(error) === 'LifecyclePolicyNotFoundException') return undefined;
      throw toEcrError('GetLifecyclePolicy', error);
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toEcrError(operation, error);
    }
  }
}

/**
 * Creates an `EcrRegistry` (region/account from options, the registry host, or `AWS_REGION`/`AWS_DEFAULT_REGION`).
 * @throws {TagResolutionError} when no region can be found.
 */
export function createEcrRegistry(options: EcrRegistryOptions = {}): EcrRegistry {
  return new EcrRegistry(options);
}

/** A `RegistryAuthSource` backed by `GetAuthorizationToken` (cached by the registry object). */
export function ecrAuthProvider(registry: Pick<RegistryApi, 'getRegistryAuth'>): RegistryAuthSource {
  return () => registry.getRegistryAuth();
}

/** A repository's tag mutability with its exclusion filters. */
interface Mutability {
  imageTagMutability: ImageTagMutability;
  filters: ImageTagMutabilityExclusionFilter[] | undefined;
}

function desiredMutability(options: EnsureRepositoryOptions): Mutability {
  if (options.immutableSha === false) return { imageTagMutability: 'MUTABLE', filters: undefined };
  const mutableTags = options.mutableTags ?? ['latest'];
  if (mutableTags.length === 0) return { imageTagMutability: 'IMMUTABLE', filters: undefined };
  return {
    imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
    filters: mutableTags.map((filter) => ({ filterType: 'WILDCARD', filter })),
  };
}

const MUTABLE: Mutability = { imageTagMutability: 'MUTABLE', filters: undefined };

function sameMutability(
  current: { imageTagMutability: string | undefined; filters: ImageTagMutabilityExclusionFilter[] | undefined },
  desired: Mutability,
): boolean {
  return (
    current.imageTagMutability === desired.imageTagMutability &&
    isDeepStrictEqual(normaliseFilters(current.filters), normaliseFilters(desired.filters))
  );
}

/** An ECR endpoint (region/partition) that rejects tag-mutability exclusions: fall back to MUTABLE, with a warning. */
function exclusionUnsupported(error: unknown, mutability: { imageTagMutability: string }): boolean {
  if (!mutability.imageTagMutability.endsWith('_WITH_EXCLUSION')) return false;
  const name = errorName(error) ?? '';
  const message = error instanceof Error ? error.message : '';
  return /InvalidParameter|Validation|SerializationException/.test(name) && /mutability|exclusion/i.test(message);
}

function fallbackWarning(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `tag-mutability exclusions are not accepted here (${message}); fell back to MUTABLE tags, so sha tags are not protected from overwrites`;
}

function normaliseFilters(filters: ImageTagMutabilityExclusionFilter[] | undefined): string[] {
  return (filters ?? []).map((f) => `${f.filterType}:${f.filter}`).sort();
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function toEcrError(operation: string, error: unknown): EcrError {
  if (error instanceof EcrError) return error;
  const name = errorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new EcrError(operation, name, message, { cause: error });
}

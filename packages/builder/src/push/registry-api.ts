import type { RegistryAuth } from '../engine/engine.js';
import type { LifecyclePolicyOptions } from './lifecycle-policy.js';

/**
 * What the push logic needs from a managed registry's control plane (ECR). `EcrRegistry` (push/ecr-client.ts, the
 * only file importing the AWS SDK) implements it; tests hand in fakes. Domain types only, camelCase.
 */
export interface RegistryApi {
  /** The registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly registryHost: string;
  /** Registry credentials (user `AWS` + a 12-hour token for ECR), cached until shortly before they expire. */
  getRegistryAuth(): Promise<RegistryAuth>;
  /** Creates the repository if it is missing and brings its settings and lifecycle policy to the desired state. */
  ensureRepository(options: EnsureRepositoryOptions): Promise<EnsureRepositoryResult>;
  /** The manifest digest a tag points at, or `undefined` when the tag (or repository) does not exist. */
  getTagDigest(repository: string, tag: string): Promise<string | undefined>;
  /**
   * Points `toTag` at the image identified by `fromTag` / `fromDigest` without pulling or pushing layers
   * (`BatchGetImage` + `PutImage`). Idempotent: a tag that already points at that digest is success.
   * @throws {TagImmutableError} when `toTag` is immutable and points at another digest.
   */
  retag(options: RetagOptions): Promise<{ digest: string }>;
}

export interface EnsureRepositoryOptions {
  /** Repository name inside the registry, e.g. `4pass/api`. */
  name: string;
  /** Scan images on push (default true). */
  scanOnPush?: boolean;
  /** Make tags immutable except `latest` (default true). */
  immutableSha?: boolean;
  /** Tags that stay mutable when `immutableSha` is on (default `['latest']`). */
  mutableTags?: string[];
  /**
   * The lifecycle policy's counts (`releaseLifecyclePolicy`: `latest` and the last releases never expire, old sha
   * images and untagged ones do). `false` leaves the repository's lifecycle policy alone.
   */
  lifecyclePolicy?: LifecyclePolicyOptions | false;
}

export interface EnsureRepositoryResult {
  name: string;
  uri?: string;
  created: boolean;
  /** Settings changed on an existing repository (`scanOnPush`, `tagMutability`). */
  updated: string[];
  lifecyclePolicyApplied: boolean;
  /** The tag mutability in force: `IMMUTABLE_WITH_EXCLUSION` (sha immutable, latest mutable) or a fallback. */
  tagMutability: string;
  /** E.g. the MUTABLE fallback when the endpoint rejects tag-mutability exclusions. */
  warnings: string[];
}

export interface RetagOptions {
  repository: string;
  fromTag?: string;
  fromDigest?: string;
  toTag: string;
}

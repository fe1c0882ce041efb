/**
 * The ECR lifecycle policy every repository gets (repository as code, `EcrRegistry.ensureRepository`). It is written
 * for ECR's documented evaluation rules (userguide, "Lifecycle policy evaluation rules"): rules are applied in
 * `rulePriority` order; an image is expired by at most one rule; an image that matches the tag selection of a rule can
 * never be expired by a rule of lower priority; `imageCountMoreThan` keeps the newest images by push time; a tagged
 * image that matches no rule is never expired. So, in order:
 *
 * 1. `latest` (the image in production) matches the first rule, which never expires its one image;
 * 2. `release-*` (the marker a release puts on the image it releases) keeps the last `releases` released images,
 *    whatever their age;
 * 3. `sha-*` (every pushed image) keeps the newest `shaImages` (released ones count among them);
 * 4. untagged images go after `untaggedDays`.
 *
 * Only images carry those tags. The evidence next to an image (gate report, release records: `sha256-<hex>.<kind>`)
 * matches no rule, so it is never counted nor expired on its own; it names its image as OCI `subject`, and ECR deletes
 * an image's referring artifacts with it.
 */

/** The tag a release puts on the image it releases; the lifecycle policy keeps the last N of them. */
export const RELEASE_TAG_PREFIX = 'release-';

export interface LifecyclePolicyOptions {
  /** Released images kept whatever their age, besides the one at `latest` (default 10). */
  releases?: number;
  /** `sha-<7>` images kept, newest first, released ones included (default 20). */
  shaImages?: number;
  /** Days an untagged image is kept (default 1). */
  untaggedDays?: number;
}

export const DEFAULT_LIFECYCLE: Required<LifecyclePolicyOptions> = { releases: 10, shaImages: 20, untaggedDays: 1 };

/** ECR lifecycle policy document (ECR's own JSON field names). */
export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPatternList?: string[];
    tagPrefixList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed';
    countUnit?: 'days';
    countNumber: number;
  };
  action: { type: 'expire' };
}

/**
 * The policy above for the given counts (pure).
 * @throws {RangeError} a count that is not a positive whole number (ECR accepts no other).
 */
export function releaseLifecyclePolicy(options: LifecyclePolicyOptions = {}): LifecyclePolicy {
  const { releases, shaImages, untaggedDays } = { ...DEFAULT_LIFECYCLE, ...options };
  for (const [key, value] of Object.entries({ releases, shaImages, untaggedDays })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`lifecycle ${key} must be a whole number ≥ 1`);
  }
  const tagged = (pattern: string, countNumber: number): LifecycleRule['selection'] => ({
    tagStatus: 'tagged',
    tagPatternList: [pattern],
    countType: 'imageCountMoreThan',
    countNumber,
  });
  const expire = { type: 'expire' } as const;
  return {
    rules: [
      { rulePriority: 1, description: 'latest: never expired', selection: tagged('latest', 1), action: expire },
      {
        rulePriority: 2,
        description: `the last ${releases} releases, whatever their age`,
        selection: tagged(`${RELEASE_TAG_PREFIX}*`, releases),
        action: expire,
      },
      {
        rulePriority: 3,
        description: `the last ${shaImages} sha images`,
        selection: tagged('sha-*', shaImages),
        action: expire,
      },
      {
        rulePriority: 4,
        description: `untagged images after ${untaggedDays} day${untaggedDays === 1 ? '' : 's'}`,
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: untaggedDays,
        },
        action: expire,
      },
    ],
  };
}

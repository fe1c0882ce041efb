import { storeArtifact } from '../push/image-artifacts.js';
import { RELEASE_TAG_PREFIX } from '../push/lifecycle-policy.js';
import { DigestMismatchError } from '../push/push-errors.js';
import { isValidTag } from '../references/tag-pattern.js';
import { readCandidate, type ReleaseCandidate } from './read-candidate.js';
import type { ReleaseCheck } from './release-checks.js';
import { openRelease, registryCall, type ReleaseAccess, type ReleaseContext } from './release-context.js';
import { ReleaseRefusedError } from './release-errors.js';
import { recordQualifier, releaseActor, releaseRun, type ReleaseRecord } from './release-record.js';

export interface PromoteImageOptions extends ReleaseAccess {
  /** The repository inside the registry, e.g. `4pass/api`. */
  name: string;
  /** The gated image to release: its tag (`sha-<7>`) or manifest digest. */
  from: string;
  /** The tag to point at it (default `latest`). */
  to?: string;
  /** Who releases, for the record (default `GITHUB_ACTOR`, else the local user). */
  actor?: string;
  /** Clock, for the record (tests). */
  now?: () => Date;
}

export interface PromoteResult {
  /** `host[:port]/name`. */
  repository: string;
  from: string;
  to: string;
  /** The released manifest digest. */
  digest: string;
  /** `host[:port]/name@sha256:…`: the digest-pinned reference a task definition should use. */
  reference: string;
  /** `unchanged`: `to` already pointed at this image; nothing moved and nothing was recorded. */
  status: 'released' | 'unchanged';
  /** The digest `to` pointed at before; null for the first release. */
  previous: string | null;
  /** The image is older than the one it replaced. */
  rollback: boolean;
  /** The image's commit (`org.opencontainers.image.revision`). */
  commit: string | null;
  checks: ReleaseCheck[];
  /** The gate report the release relied on. */
  report: { tag: string; digest: string };
  /** The release record stored next to the image; null when nothing moved. */
  record: { tag: string; digest: string } | null;
  /** The tags this release moved, in order: the release marker (`release-<from>`), then `to`. */
  tags: { tag: string; digest: string }[];
}

/** Who, where and when, for the release record. */
export interface ReleaseStamp {
  actor: string;
  run: string | null;
  now: () => Date;
}

/**
 * Releases one gated image: reads the gate report and the SBOM stored next to exactly the manifest `from` names and
 * refuses unless both are there and name that image, and the gate passed; then, in the registry itself (no rebuild, no pull, no layer pushed),
 * tags the image `release-<from>` (kept by the lifecycle policy), points `to` at its manifest and verifies it, and
 * stores the release record next to it. When `to` already names the image nothing moves (`unchanged`). A registry that
 * fails before `to` is written leaves `to` where it was. Releasing an image older than the one at `to` is a rollback,
 * and the result says so.
 * @throws {ReleaseRefusedError} no such image, no gate report or SBOM for it, one of another image, or a failed gate.
 * @throws {RegistrySettingsError} no registry configured.
 * @throws {RegistryAuthError} bad credentials.
 * @throws {RegistryServerError} 5xx answers, {RegistryTimeoutError} no answer in time, {RegistryUnavailableError} no
 *   connection — each after the retries.
 * @throws {DigestMismatchError} the registry serves another digest for a tag just written.
 * @throws {ReleaseError} any other registry failure, naming the operation.
 * @throws {RangeError} `from` or `to` is not a tag (or `from` a digest).
 */
export async function promoteImage(options: PromoteImageOptions): Promise<PromoteResult> {
  const to = options.to ?? 'latest';
  checkReferences(options.from, to);
  const ctx = await openRelease(options, options.name);
  const candidate = await readCandidate(ctx, options.from, to);
  if (candidate.refused) throw new ReleaseRefusedError(ctx.repository, options.from, candidate.checks);
  return promoteCandidate(ctx, candidate, releaseStamp(options));
}

/** The record's actor, CI run and clock from the options (defaults: the environment, the wall clock). */
export function releaseStamp(options: { actor?: string; env?: NodeJS.ProcessEnv; now?: () => Date }): ReleaseStamp {
  const env = options.env ?? process.env;
  return { actor: options.actor ?? releaseActor(env), run: releaseRun(env), now: options.now ?? (() => new Date()) };
}

/** `from` must be a tag or a digest, `to` a tag. */
export function checkReferences(from: string, to: string): void {
  if (!isValidTag(from) && !/^sha256:[a-f0-9]{64}$/.test(from))
    throw new RangeError(`release from "${from}": not a tag or digest`);
  if (!isValidTag(to)) throw new RangeError(`release to "${to}": not a valid tag`);
}

/** Moves the tags for a candidate whose checks passed: marker, then `to`, then the record. */
export async function promoteCandidate(
  ctx: ReleaseContext,
  candidate: ReleaseCandidate,
  stamp: ReleaseStamp,
): Promise<PromoteResult> {
  const { manifest, artifacts } = candidate;
  if (!manifest || !artifacts.report || candidate.refused)
    throw new ReleaseRefusedError(ctx.repository, candidate.from, candidate.checks);
  const report = { tag: artifacts.report.tag, digest: artifacts.report.digest };
  const result: PromoteResult = {
    repository: ctx.repository,
    from: candidate.from,
    to: candidate.to,
    digest: manifest.digest,
    reference: `${ctx.repository}@${manifest.digest}`,
    status: 'unchanged',
    previous: candidate.previous?.digest ?? null,
    rollback: candidate.rollback,
    commit: candidate.commit,
    checks: candidate.checks,
    report,
    record: null,
    tags: ctx.moved,
  };
  if (candidate.previous?.digest === manifest.digest) {
    ctx.emit({ type: 'unchanged', image: ctx.image, tag: candidate.to, digest: manifest.digest });
    return result;
  }
  await pointTag(ctx, releaseMarker(candidate.from, manifest.digest), manifest);
  await pointTag(ctx, candidate.to, manifest);
  const record = await storeRecord(ctx, candidate, result, stamp);
  return { ...result, status: 'released', record };
}

/** `release-sha-abc1234`: the tag the lifecycle policy keeps released images by. */
export function releaseMarker(from: string, digest: string): string {
  const tag = `${RELEASE_TAG_PREFIX}${from}`;
  return isValidTag(tag) ? tag : `${RELEASE_TAG_PREFIX}${digest.replace('sha256:', '').slice(0, 12)}`;
}

/** Points `tag` at the manifest by writing its exact bytes under it, then checks what the registry serves. */
async function pointTag(ctx: ReleaseContext, tag: string, manifest: NonNullable<ReleaseCandidate['manifest']>) {
  const { registry, name, repository } = ctx;
  const check = `digest check of ${repository}:${tag}`;
  if ((await registryCall(ctx, check, () => registry.manifestDigest(name, tag))) === manifest.digest) return;
  await registryCall(ctx, `point ${repository}:${tag} at ${manifest.digest}`, () =>
    registry.putManifest(name, tag, manifest.mediaType, manifest.body),
  );
  const served = await registryCall(ctx, check, () => registry.manifestDigest(name, tag));
  if (served !== manifest.digest) throw new DigestMismatchError(repository, tag, manifest.digest, served, 'registry');
  ctx.moved.push({ tag, digest: manifest.digest });
  ctx.emit({ type: 'tag-pointed', image: ctx.image, tag, digest: manifest.digest });
}

/** Stores who released what, when, on which report, next to the image (one record per release). */
async function storeRecord(
  ctx: ReleaseContext,
  candidate: ReleaseCandidate,
  result: PromoteResult,
  stamp: ReleaseStamp,
): Promise<{ tag: string; digest: string }> {
  const manifest = candidate.manifest as NonNullable<ReleaseCandidate['manifest']>;
  const at = stamp.now();
  const previous = candidate.previous && { digest: candidate.previous.digest, commit: candidate.previous.commit };
  const content: ReleaseRecord = {
    schemaVersion: 1,
    repository: ctx.repository,
    digest: manifest.digest,
    reference: result.reference,
    from: candidate.from,
    to: candidate.to,
    commit: candidate.commit,
    releasedAt: at.toISOString(),
    releasedBy: stamp.actor,
    run: stamp.run,
    report: result.report,
    previous,
    rollback: candidate.rollback,
  };
  const subject = { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.body.length };
  const stored = await registryCall(ctx, `store the release record of ${ctx.repository}@${manifest.digest}`, () =>
    storeArtifact(ctx.registry, { kind: 'release', name: ctx.name, subject, content, qualifier: recordQualifier(at) }),
  );
  ctx.emit({ type: 'recorded', image: ctx.image, tag: stored.tag });
  return stored;
}

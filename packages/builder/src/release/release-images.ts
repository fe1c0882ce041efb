import type { ImageConfig, ImagesConfig } from '../config/config-types.js';
import { resolveRegistryDestination } from '../config/registry-settings.js';
import { RegistrySettingsError } from '../config/config-errors.js';
import { repositoryName, selectImages } from '../pipeline/config-stage.js';
import { checkReferences, promoteCandidate, releaseStamp, type PromoteResult } from './promote-image.js';
import { readCandidate, type ReleaseCandidate } from './read-candidate.js';
import { openRelease, type ReleaseAccess, type ReleaseContext } from './release-context.js';
import { releaseReport, type ReleaseImageReport, type ReleaseReport } from './release-report.js';

export interface ReleaseImagesOptions extends ReleaseAccess {
  /** The images and their repositories; its `registry` unless `registry` is given, its `network` bounds. */
  config: ImagesConfig;
  /** The gated tag to release, `sha-<7>`. */
  from: string;
  /** Only these image names (default: all). */
  only?: string[];
  /** The tag to move (default `latest`). */
  to?: string;
  /** Who releases, for the records (default `GITHUB_ACTOR`, else the local user). */
  actor?: string;
  /** Clock (tests). */
  now?: () => Date;
}

/** One image after the checks: its context and candidate, or why it could not be read. */
interface Checked {
  image: ImageConfig;
  ctx?: ReleaseContext;
  candidate?: ReleaseCandidate;
  entry: ReleaseImageReport;
}

/**
 * `pnpm release`: releases `from` of every configured image (or `only` those). First every image's evidence is read
 * and checked (`promoteImage`'s checks); if one is refused or cannot be read, nothing moves at all. Then each image is
 * promoted in config order; the first registry failure stops the rest. Never throws for a refusal or a registry
 * failure: each image's outcome is in the report (`releaseExitCode` turns it into the exit code).
 * @throws {RegistrySettingsError} no registry configured.
 * @throws {RangeError} an unknown image name, or `from`/`to` not a tag.
 */
export async function releaseImages(options: ReleaseImagesOptions): Promise<ReleaseReport> {
  const to = options.to ?? 'latest';
  checkReferences(options.from, to);
  const images = selectImages(options.config, options.only);
  const { network } = options.config;
  const access: ReleaseAccess = {
    ...options,
    registry: options.registry ?? options.config.registry,
    retries: options.retries ?? (network.retries === undefined ? undefined : { max: network.retries }),
    timeouts: options.timeouts ?? { headersMs: network.requestTimeout, bodyIdleMs: network.idleTimeout },
  };
  resolveRegistryDestination(access.registry, access.env);
  const checked: Checked[] = [];
  for (const image of images) checked.push(await checkImage(access, image, options.from, to));
  const blocked = checked.filter((c) => c.entry.status === 'refused' || c.entry.status === 'failed');
  const stamp = releaseStamp(options);
  const entries: ReleaseImageReport[] = [];
  let stop = blocked.length ? `not released: ${describeBlocked(blocked)}` : undefined;
  for (const c of checked) {
    if (!c.ctx || !c.candidate || c.candidate.refused) {
      entries.push(c.entry);
    } else if (stop) {
      entries.push({ ...c.entry, status: 'skipped', message: stop });
    } else {
      const entry = await promoteChecked(c.ctx, c.candidate, c.entry, stamp);
      if (entry.status === 'failed') stop = `not attempted: the release of ${c.image.name} failed`;
      entries.push(entry);
    }
  }
  return releaseReport({ from: options.from, to, images: entries, generatedAt: (options.now ?? (() => new Date()))() });
}

/** Reads and checks one image; a registry failure is its `failed` entry. */
async function checkImage(access: ReleaseAccess, image: ImageConfig, from: string, to: string): Promise<Checked> {
  const name = repositoryName(image);
  let ctx: ReleaseContext | undefined;
  try {
    ctx = await openRelease(access, name, image.name);
    const candidate = await readCandidate(ctx, from, to);
    return { image, ctx, candidate, entry: candidateEntry(image, ctx, candidate) };
  } catch (error) {
    if (error instanceof RegistrySettingsError || access.signal?.aborted) throw error;
    const repository = ctx?.repository ?? name;
    return {
      image,
      entry: { ...emptyEntry(image.name, repository), status: 'failed', message: (error as Error).message },
    };
  }
}

async function promoteChecked(
  ctx: ReleaseContext,
  candidate: ReleaseCandidate,
  entry: ReleaseImageReport,
  stamp: ReturnType<typeof releaseStamp>,
): Promise<ReleaseImageReport> {
  try {
    return resultEntry(entry, candidate, await promoteCandidate(ctx, candidate, stamp));
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    return { ...entry, status: 'failed', tags: [...ctx.moved], message: (error as Error).message };
  }
}

function describeBlocked(blocked: Checked[]): string {
  return blocked
    .map((c) => `${c.image.name} ${c.entry.status === 'refused' ? 'was refused' : 'could not be read'}`)
    .join(', ');
}

function emptyEntry(name: string, repository: string): ReleaseImageReport {
  return {
    name,
    repository,
    status: 'skipped',
    digest: null,
    reference: null,
    commit: null,
    previous: null,
    rollback: false,
    checks: [],
    report: null,
    record: null,
    tags: [],
    message: null,
  };
}

/** The entry after the checks: `refused` with the reasons, else `skipped` until it is promoted. */
function candidateEntry(image: ImageConfig, ctx: ReleaseContext, candidate: ReleaseCandidate): ReleaseImageReport {
  const digest = candidate.manifest?.digest ?? null;
  const report = candidate.artifacts.report;
  const why = candidate.checks.filter((c) => c.status === 'fail').map((c) => c.message);
  return {
    ...emptyEntry(image.name, ctx.repository),
    status: candidate.refused ? 'refused' : 'skipped',
    digest,
    reference: digest && `${ctx.repository}@${digest}`,
    commit: candidate.commit,
    previous: candidate.previous?.digest ?? null,
    rollback: candidate.rollback,
    checks: candidate.checks,
    report: report ? { tag: report.tag, digest: report.digest } : null,
    message: candidate.refused ? why.join('; ') : null,
  };
}

function resultEntry(
  entry: ReleaseImageReport,
  candidate: ReleaseCandidate,
  result: PromoteResult,
): ReleaseImageReport {
  const previous = candidate.previous?.commit
    ? `sha-${candidate.previous.commit.slice(0, 7)} (${result.previous})`
    : result.previous;
  const message =
    result.status === 'unchanged'
      ? `${result.to} already names this image: nothing moved`
      : result.rollback
        ? `rollback: ${result.to} goes back from ${previous} to this older image`
        : null;
  return { ...entry, status: result.status, record: result.record, tags: result.tags, message };
}

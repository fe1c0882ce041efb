import type { ImageConfig } from '../config/config-types.js';
import { pushToRegistry } from '../push/push-to-registry.js';
import type { PushedTag, PushEvent, PushResult } from '../push/push-image.js';
import type { GateReport } from '../report/gate-report.js';
import type { BuiltImage } from './build-stage.js';
import { repositoryName, type PushPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';
import { openRegistry } from '../push/open-registry.js';
import { imageSubject, storeArtifact } from '../push/image-artifacts.js';
import { pushBuildCache } from '../push/registry-cache.js';
import type { CycloneDxBom } from '../sbom/image-sbom.js';
import { validateSbom } from '../sbom/validate-sbom.js';
import type { ImageStageTypes } from './stage-types.js';

/** A push that failed, with the tags that had reached the registry before it did (usually none). */
export class PushStageError extends Error {
  override readonly name = 'PushStageError' as const;
  constructor(
    readonly tags: readonly PushedTag[],
    options: { cause: unknown },
  ) {
    super((options.cause as Error).message, options);
  }
}

/**
 * The tag/push stage: `sha-<7>` pushed and verified from the engine that built the image, its SBOM (validated first)
 * and its part of the gate report (which links the SBOM) stored next to it, then its build cache. `latest` is not among
 * the tags: only a release (`promoteImage`) moves it. Returns what it pushed.
 * @throws {PushStageError} carrying the tags that reached the registry before the push failed (none when the SBOM
 * did not validate: nothing is pushed then).
 */
export async function pushStage(
  image: ImageConfig,
  built: BuiltImage,
  report: GateReport,
  push: PushPlan,
  at: StageContext,
  sbom?: CycloneDxBom,
): Promise<ImageStageTypes['pushed']> {
  const reached: PushedTag[] = [];
  try {
    if (sbom) await validateSbom(sbom, image.name);
    const result = await pushImageTags(image, built, push, at, reached);
    const evidence = await storeEvidence(image, result.digest, report, push, sbom);
    const cache = await pushCache(image, push, at);
    at.describe(
      `${result.repository}@${result.digest.slice(0, 19)} (${result.tags.map((t) => t.tag).join(', ')})${evidence.note}${cache}`,
    );
    return { ...result, ...(evidence.sbom && { sbom: evidence.sbom }) };
  } catch (error) {
    throw new PushStageError(reached, { cause: error });
  }
}

async function pushImageTags(
  image: ImageConfig,
  built: BuiltImage,
  push: PushPlan,
  at: StageContext,
  reached: PushedTag[],
): Promise<PushResult> {
  return pushToRegistry({
    engine: at.engine,
    image: built.result.imageId,
    name: repositoryName(image),
    registry: push.registry,
    tags: push.tags,
    ...(push.auth && { auth: push.auth }),
    ...(push.env && { env: push.env }),
    ...(push.network.retries !== undefined && { retries: { max: push.network.retries } }),
    timeouts: pushTimeouts(push),
    signal: at.signal,
    onEvent: (event) => {
      if (event.type === 'tag-pushed' || event.type === 'tag-pointed' || event.type === 'tag-unchanged')
        record(reached, event);
      at.emit({ type: 'push', image: image.name, event });
    },
  });
}

function pushTimeouts(push: PushPlan): NonNullable<Parameters<typeof pushToRegistry>[0]['timeouts']> {
  return {
    ...(push.network.requestTimeout !== undefined && { headersMs: push.network.requestTimeout }),
    ...(push.network.idleTimeout !== undefined && {
      streamIdleMs: push.network.idleTimeout,
      bodyIdleMs: push.network.idleTimeout,
    }),
  };
}

/** The image's build cache (`cache.to`), pushed after the image: `; cache <tags>` for the stage's line. */
async function pushCache(image: ImageConfig, push: PushPlan, at: StageContext): Promise<string> {
  const to = image.cache?.to;
  if (!to) return '';
  const cacheTags = await pushBuildCache({
    engine: at.engine,
    repository: to,
    access: push.cacheAccess,
    signal: at.signal,
    onEvent: (event) => at.emit({ type: 'push', image: image.name, event }),
  });
  return cacheTags.length ? `; cache ${cacheTags.join(', ')}` : '';
}

/**
 * Stores the image's SBOM (tag `sha256-<hex>.sbom`), then its gate report (`sha256-<hex>.report`, naming the SBOM's
 * tag and digest) with the pushed image: the evidence a release checks, and the baseline of `--baseline-image`. The
 * image is pushed already, so a failure here is only noted: a release of this image is then refused (no SBOM or no
 * report), and the next run measures the image from the registry.
 */
async function storeEvidence(
  image: ImageConfig,
  digest: string,
  report: GateReport,
  push: PushPlan,
  sbom: CycloneDxBom | undefined,
): Promise<{ note: string; sbom?: { tag: string; digest: string } }> {
  const mine = report.images.find((i) => i.name === image.name);
  if (!sbom && !mine) return { note: '' };
  try {
    const { client, name } = await openRegistry({
      registry: push.registry,
      name: repositoryName(image),
      ...(push.auth && { auth: push.auth }),
      ...(push.env && { env: push.env }),
    });
    const subject = await imageSubject(client, name, digest);
    if (!subject) return { note: `, evidence not stored: ${name}@${digest} is not in the registry` };
    const stored = sbom && (await storeArtifact(client, { kind: 'sbom', name, subject, content: sbom }));
    const notes = stored ? [`SBOM stored as ${stored.tag}`] : [];
    if (mine) {
      const linked = stored && mine.sbom ? { ...mine, sbom: { ...mine.sbom, stored } } : mine;
      const content = { ...report, images: [linked], errors: [] };
      notes.push(`report stored as ${(await storeArtifact(client, { kind: 'report', name, subject, content })).tag}`);
    }
    return { note: `, ${notes.join(', ')}`, ...(stored && { sbom: stored }) };
  } catch (error) {
    return { note: `, evidence not stored: ${(error as Error).message}` };
  }
}

/** Remembers each tag that reached the registry (once per tag), so a failed or interrupted push says what moved. */
function record(
  reached: PushedTag[],
  event: Extract<PushEvent, { type: 'tag-pushed' | 'tag-pointed' | 'tag-unchanged' }>,
): void {
  const at = reached.findIndex((t) => t.tag === event.tag);
  if (at >= 0) reached.splice(at, 1);
  const via = event.type === 'tag-pointed' ? event.via : event.type === 'tag-unchanged' ? 'unchanged' : 'engine-push';
  reached.push({ tag: event.tag, digest: event.digest, via });
}

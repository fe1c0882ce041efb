import type { ImageConfig } from '../config/config-schema.js';
import { pushToRegistry } from '../push/push-to-registry.js';
import type { PushEvent } from '../push/push-image.js';
import type { BuiltImage } from './build-stage.js';
import { repositoryName, type PushPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';
import { openRegistry } from '../push/open-registry.js';
import { imageSubject, storeArtifact } from '../push/image-artifacts.js';
import { pushBuildCache } from '../push/registry-cache.js';
import type { CycloneDxBom } from '../sbom/image-sbom.js';
import { validateSbom } from '../sbom/validate-sbom.js';
import type { ImageStageTypes } from './stage-types.js';

/**
 * The tag/push stage: `sha-<7>` pushed and verified from the engine that built the image, its SBOM (validated) and its
 * gate report (which links the SBOM) stored next to it, then its build cache. `latest` is not among the tags: only a
 * release (`promoteImage`) moves it.
 * @throws {SbomValidationError} the SBOM does not validate (before anything is pushed).
 */
export async function pushStage(
  image: ImageConfig,
  built: BuiltImage,
  push: PushPlan,
  at: StageContext,
  sbom?: CycloneDxBom,
): Promise<ImageStageTypes['pushed']> {
  if (sbom) await validateSbom(sbom, image.name);
  const onEvent = (event: PushEvent) => {
    if (event.type === 'tag-pushed' || event.type === 'tag-pointed' || event.type === 'tag-unchanged')
      record(push, image.name, event);
    at.emit({ type: 'push', image: image.name, event });
  };
  const result = await pushToRegistry({
    engine: at.engine,
    image: built.result.imageId,
    name: repositoryName(image),
    registry: push.registry,
    tags: push.tags,
    ...(push.auth && { auth: push.auth }),
    ...(push.env && { env: push.env }),
    ...(push.network.retries !== undefined && { retries: { max: push.network.retries } }),
    timeouts: {
      ...(push.network.requestTimeout !== undefined && { headersMs: push.network.requestTimeout }),
      ...(push.network.idleTimeout !== undefined && {
        streamIdleMs: push.network.idleTimeout,
        bodyIdleMs: push.network.idleTimeout,
      }),
    },
    signal: at.signal,
    onEvent,
  });
  const evidence = await storeEvidence(image, result.digest, push, sbom);
  const to = image.cache?.to;
  const cacheTags = to
    ? await pushBuildCache({
        engine: at.engine,
        repository: to,
        access: push.cacheAccess,
        signal: at.signal,
        onEvent: (event) => at.emit({ type: 'push', image: image.name, event }),
      })
    : [];
  const cache = cacheTags.length ? `; cache ${cacheTags.join(', ')}` : '';
  at.describe(
    `${result.repository}@${result.digest.slice(0, 19)} (${result.tags.map((t) => t.tag).join(', ')})${evidence.note}${cache}`,
  );
  return { ...result, ...(evidence.sbom && { sbom: evidence.sbom }) };
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
  push: PushPlan,
  sbom: CycloneDxBom | undefined,
): Promise<{ note: string; sbom?: { tag: string; digest: string } }> {
  const mine = push.report?.images.find((i) => i.name === image.name);
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
    if (push.report && mine) {
      const linked = stored && mine.sbom ? { ...mine, sbom: { ...mine.sbom, stored } } : mine;
      const content = { ...push.report, images: [linked], errors: [] };
      const report = await storeArtifact(client, { kind: 'report', name, subject, content });
      notes.push(`report stored as ${report.tag}`);
    }
    return { note: `, ${notes.join(', ')}`, ...(stored && { sbom: stored }) };
  } catch (error) {
    return { note: `, evidence not stored: ${(error as Error).message}` };
  }
}

/** Remembers each tag that reached the registry (once per tag), so a failed or interrupted push says what moved. */
function record(
  push: PushPlan,
  image: string,
  event: Extract<PushEvent, { type: 'tag-pushed' | 'tag-pointed' | 'tag-unchanged' }>,
): void {
  const tags = (push.pushed.get(image) ?? []).filter((t) => t.tag !== event.tag);
  const via = event.type === 'tag-pointed' ? event.via : event.type === 'tag-unchanged' ? 'unchanged' : 'engine-push';
  tags.push({ tag: event.tag, digest: event.digest, via });
  push.pushed.set(image, tags);
}

import type { ImageConfig } from '../config/config-schema.js';
import { pushToRegistry } from '../push/push-to-registry.js';
import type { PushEvent, PushResult } from '../push/push-image.js';
import type { BuiltImage } from './build-stage.js';
import { repositoryName, type PushPlan } from './config-stage.js';
import type { StageContext } from './schedule-images.js';

/** The tag/push stage: `sha-<7>` pushed and verified, then `latest`, from the engine that built the image. */
export async function pushStage(
  image: ImageConfig,
  built: BuiltImage,
  push: PushPlan,
  at: StageContext,
): Promise<PushResult> {
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
  at.describe(`${result.repository}@${result.digest.slice(0, 19)} (${result.tags.map((t) => t.tag).join(', ')})`);
  return result;
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

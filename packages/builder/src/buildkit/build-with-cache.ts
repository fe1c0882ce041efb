import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, type BuildOptions, type BuildResult } from './build-image.js';
import { cacheRefs, dependencyStages } from './cache-stages.js';

/** A registry build cache (BuildKit's inline cache, the only cache export through `POST /build`). */
export interface BuildCache {
  /** Repositories (`host[:port]/path`, no tag) read as `<repository>:<stage>` for every stage the target needs. */
  from: readonly string[];
  /** The repository written: every stage the target needs is tagged `<to>:<stage>` with its inline cache. */
  to?: string | undefined;
}

/** The cache tag of a build without `target` (the Dockerfile's last stage). */
export const FINAL_STAGE = 'final';

/**
 * `buildImage` with a registry build cache. Reading: one build whose `cachefrom` names `<repository>:<stage>` of every
 * `from` (and `to`) repository for the target and each stage it copies from. Writing (`to`): BuildKit's inline cache
 * holds only the layers of the image it is written into, so each stage the target copies from is first built as its
 * own target with `BUILDKIT_INLINE_CACHE=1` and tagged `<to>:<stage>`, then the target, tagged `<to>:<target>` —
 * the tags to push. Without `cache`, a plain build.
 * @throws everything `buildImage` throws.
 */
export async function buildWithCache(options: BuildOptions & { cache?: BuildCache | undefined }): Promise<BuildResult> {
  const { cache, ...build } = options;
  if (!cache || (cache.from.length === 0 && !cache.to)) return buildImage(build);
  const target = build.target ?? FINAL_STAGE;
  const stages = [...(await stagesOf(build)), target];
  const repositories = [...new Set([...cache.from, ...(cache.to ? [cache.to] : [])])];
  const cached = { ...build, cacheFrom: [...(build.cacheFrom ?? []), ...cacheRefs(repositories, stages)] };
  const { to } = cache;
  if (!to) return buildImage(cached);
  for (const stage of stages.slice(0, -1)) {
    await buildImage({ ...cached, target: stage, tags: [`${to}:${stage}`], inlineCache: true });
  }
  return buildImage({ ...cached, tags: [...(build.tags ?? []), `${to}:${target}`], inlineCache: true });
}

/** The stages the target (default: the last stage) copies from. */
async function stagesOf(options: BuildOptions): Promise<string[]> {
  const dockerfile = await readFile(options.dockerfile ?? join(options.contextDir, 'Dockerfile'), 'utf8');
  return dependencyStages(dockerfile, options.target);
}

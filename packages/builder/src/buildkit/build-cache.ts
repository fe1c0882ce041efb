import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRefs, dependencyStages } from './dockerfile-stages.js';

/** A registry build cache (BuildKit's inline cache, the only cache export through `POST /build`). */
export interface BuildCache {
  /** Repositories (`host[:port]/path`, no tag) read as `<repository>:<stage>` for every stage the target needs. */
  from: readonly string[];
  /** The repository written: every stage the target needs is tagged `<to>:<stage>` with its inline cache. */
  to?: string | undefined;
}

/** What of a build's options a registry build cache reads and sets. */
export interface CacheableBuild {
  contextDir: string;
  dockerfile?: string;
  target?: string;
  tags?: string[];
  cacheFrom?: string[];
  inlineCache?: boolean;
  cache?: BuildCache | undefined;
}

/** The cache tag of a build without `target` (the Dockerfile's last stage). */
export const FINAL_STAGE = 'final';

/**
 * The builds a registry build cache needs, in order; the last one is the image asked for. Reading: one build whose
 * `cacheFrom` names `<repository>:<stage>` of every `from` (and `to`) repository for the target and each stage it
 * copies from. Writing (`to`): BuildKit's inline cache holds only the layers of the image it is written into, so each
 * stage the target copies from is first built as its own target with its inline cache and tagged `<to>:<stage>`, then
 * the target, tagged `<to>:<target>` — the tags to push. Without `cache`, the one build asked for.
 */
export async function cachedBuilds<O extends CacheableBuild>(options: O): Promise<O[]> {
  const { cache } = options;
  const build = { ...options, cache: undefined };
  if (!cache || (cache.from.length === 0 && !cache.to)) return [build];
  const target = build.target ?? FINAL_STAGE;
  const stages = [...(await stagesOf(build)), target];
  const repositories = [...new Set([...cache.from, ...(cache.to ? [cache.to] : [])])];
  const cached = { ...build, cacheFrom: [...(build.cacheFrom ?? []), ...cacheRefs(repositories, stages)] };
  const { to } = cache;
  if (!to) return [cached];
  return [
    ...stages.slice(0, -1).map((stage) => ({ ...cached, target: stage, tags: [`${to}:${stage}`], inlineCache: true })),
    { ...cached, tags: [...(build.tags ?? []), `${to}:${target}`], inlineCache: true },
  ];
}

/** The stages the target (default: the last stage) copies from. */
async function stagesOf(options: CacheableBuild): Promise<string[]> {
  const dockerfile = await readFile(options.dockerfile ?? join(options.contextDir, 'Dockerfile'), 'utf8');
  return dependencyStages(dockerfile, options.target);
}

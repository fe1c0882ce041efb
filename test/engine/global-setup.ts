import { connectEngine } from '../../packages/builder/src/engine/connection.js';
import type { Engine } from '../../packages/builder/src/engine/engine.js';
import { OFFICIAL_BASES } from './helpers.js';
import { sweepOrphanedEngines } from '../../harness/second-engine.js';

/**
 * Engine tests need a real engine. When none answers, the whole run fails here with the adapter's own error (never a
 * silent skip): in CI `.ci/run` starts one through scripts/bootstrap.sh.
 * Second engines (remote-engine tests) of test processes that died without cleaning up are removed before and after
 * the run; a live process's engine is never touched.
 *
 * `FOURPASS_TEST_BASES=official` runs the suite as a machine that has the official base images (a CI runner): each
 * official name that is absent is tagged onto its local stand-in for this run only, and exactly those tags are removed
 * at the end, pass or fail. Official names that were already there are left alone.
 */
export default async function setup(): Promise<() => Promise<void>> {
  sweepOrphanedEngines();
  const engine = await connectEngine();
  const version = await engine.version();
  process.stdout.write(`engine tests: Docker ${version.version} (API ${version.apiVersion}) at ${engine.address}\n`);
  const mode = process.env.FOURPASS_TEST_BASES ?? 'as-is';
  if (mode !== 'as-is' && mode !== 'official')
    throw new Error(`FOURPASS_TEST_BASES=${mode}: expected "official" (or unset: the bases as the engine has them)`);
  const added = mode === 'official' ? await tagOfficialBases(engine) : [];
  return async () => {
    await untagOfficialBases(engine, added);
    const swept = sweepOrphanedEngines();
    if (swept.length) process.stdout.write(`engine tests: removed second engines left behind: ${swept.join(', ')}\n`);
  };
}

interface AddedTag {
  official: string;
  imageId: string;
}

async function tagOfficialBases(engine: Engine): Promise<AddedTag[]> {
  const added: AddedTag[] = [];
  try {
    for (const [official, standIn] of Object.entries(OFFICIAL_BASES)) {
      if (await engine.inspectImage(official)) continue;
      const image = await engine.inspectImage(standIn);
      if (!image) throw new Error(`FOURPASS_TEST_BASES=official: neither ${official} nor ${standIn} is in the engine`);
      const [repo, tag] = official.split(':') as [string, string];
      await engine.tagImage(image.Id, repo, tag);
      added.push({ official, imageId: image.Id });
    }
  } catch (error) {
    await untagOfficialBases(engine, added);
    throw error;
  }
  if (added.length)
    process.stdout.write(`engine tests: tagged ${added.map((a) => a.official).join(', ')} for this run\n`);
  return added;
}

/** Removes the tags this run added (an untag: the stand-in keeps its own name), unless someone re-pointed them. */
async function untagOfficialBases(engine: Engine, added: AddedTag[]): Promise<void> {
  const removed: string[] = [];
  for (const { official, imageId } of added) {
    if ((await engine.inspectImage(official))?.Id !== imageId) continue;
    await engine.removeImage(official, { noprune: true });
    removed.push(official);
  }
  if (removed.length) process.stdout.write(`engine tests: removed ${removed.join(', ')}\n`);
}

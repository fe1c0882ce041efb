import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, resolveTags, type Engine } from '@4pass/builder/internal';
import { engine as sharedEngine, localPythonBase, runId, testLabel } from './helpers.js';

const PYTHON_BASE = await localPythonBase();

/** 2022-03-04T05:06:07Z. */
const COMMIT_TIME = 1646370367;
let engine: Engine;
let repo: string;

beforeAll(async () => {
  engine = await sharedEngine();
  repo = await mkdtemp(join(tmpdir(), '4pass-repro-'));
  await writeFile(join(repo, 'Dockerfile'), `FROM ${PYTHON_BASE}\nRUN echo ${runId} > /built-from\n`);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
    GIT_AUTHOR_DATE: `@${COMMIT_TIME}`,
    GIT_COMMITTER_DATE: `@${COMMIT_TIME}`,
  };
  for (const args of [
    ['init', '-q'],
    ['add', 'Dockerfile'],
    ['commit', '-qm', 'one commit'],
  ])
    execFileSync('git', args, { cwd: repo, env });
});

afterAll(async () => {
  for (const image of await engine.listImages({ label: [`org.4pass.test=${runId}`] }))
    await engine.removeImage(image.id, { force: true });
  await rm(repo, { recursive: true, force: true });
});

/** One run: resolve the commit's tags and labels (as runImages does), then build with them. */
async function run(): Promise<string> {
  const tags = await resolveTags({ cwd: repo, env: {} });
  const result = await buildImage({
    engine,
    contextDir: repo,
    tags: [`4pass-test/repro-${runId}:${tags.tags[0]}`],
    labels: { ...testLabel, ...tags.labels },
  });
  return result.imageId;
}

describe('reproducible images', () => {
  it('two fully cached builds of the same commit, a while apart, get the same image id', async () => {
    const first = await run();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a wall-clock label would differ now
    const second = await run();
    expect(second).toBe(first);
    const labels = (await engine.inspectImage(first))?.Config.Labels ?? {};
    expect(labels['org.opencontainers.image.created']).toBe('2022-03-04T05:06:07.000Z');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
  });
});

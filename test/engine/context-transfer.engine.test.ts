import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, type BuildResult, type Engine } from '@4pass/builder';
import { engine as sharedEngine, runId, testLabel } from './helpers.js';

/**
 * The context through the session (FileSync) against the real engine: a 200 MB context goes once; a rebuild after
 * touching one file sends the metadata and that file only, where the tar body sends everything every time. The
 * Dockerfile lies outside the context and is not part of `COPY .`.
 */
const MB = 1024 * 1024;
const repo = `4pass-test/context-${runId}`;
let engine: Engine;
let root: string;
let contextDir: string;
let dockerfile: string;

beforeAll(async () => {
  engine = await sharedEngine();
  root = await mkdtemp(join(tmpdir(), '4pass-context-'));
  contextDir = join(root, 'context');
  await mkdir(join(contextDir, 'data'), { recursive: true });
  for (let i = 0; i < 50; i++) await writeFile(join(contextDir, 'data', `part-${i}.bin`), randomBytes(4 * MB));
  await writeFile(join(contextDir, 'app.txt'), 'version 1\n');
  await writeFile(join(contextDir, '.dockerignore'), 'ignored/\n');
  await mkdir(join(contextDir, 'ignored'));
  await writeFile(join(contextDir, 'ignored', 'secret.txt'), 'must not reach the engine');
  dockerfile = join(root, 'Dockerfile');
  await writeFile(dockerfile, 'FROM scratch\nCOPY . /ctx/\n');
}, 120_000);

afterAll(async () => {
  for (const image of await engine.listImages({ reference: [`${repo}:*`] })) {
    await engine.removeImage(image.id, { force: true });
  }
  await rm(root, { recursive: true, force: true });
});

const build = (tag: string, contextTransport?: 'tar'): Promise<BuildResult> =>
  buildImage({
    engine,
    contextDir,
    dockerfile,
    tags: [`${repo}:${tag}`],
    labels: testLabel,
    resolveBaseImages: false,
    ...(contextTransport && { contextTransport }),
  });

describe('the build context through the session', () => {
  it('sends a 200 MB context once; after one file is touched, less than 1 MB', async () => {
    const cold = await build('cold');
    expect(cold.context.transport).toBe('session');
    expect(cold.context.bytesSent).toBeGreaterThan(200 * MB);

    await utimes(join(contextDir, 'app.txt'), new Date(), new Date(Date.now() + 5000));
    const warm = await build('warm');
    expect(warm.context).toMatchObject({ transport: 'session', filesSent: 1 });
    expect(warm.context.bytesSent).toBeLessThan(1 * MB);
    expect(warm.imageId).toBe(cold.imageId); // nothing the COPY sees changed
  }, 600_000);

  it('applies .dockerignore and leaves the Dockerfile from outside out of COPY .', async () => {
    const archive = await engine.exportImage(`${repo}:warm`);
    const { readDockerSave } = await import('../../packages/builder/src/inspect/read-docker-save.js');
    const contents = await readDockerSave(archive);
    const paths = contents.layers.flatMap((l) => l.entries.map((e) => e.path));
    expect(paths).toContain('/ctx/app.txt');
    expect(paths).toContain('/ctx/data/part-49.bin');
    expect(paths.filter((p) => p.startsWith('/ctx/ignored'))).toEqual([]);
    expect(paths.filter((p) => /Dockerfile|\.dockerfile\./.test(p))).toEqual([]);
  });

  it('the tar body (for engines without sessions) sends the whole context every time', async () => {
    const tar = await build('tar', 'tar');
    expect(tar.context.transport).toBe('tar');
    expect(tar.context.bytesSent).toBeGreaterThan(200 * MB);
  }, 600_000);
});

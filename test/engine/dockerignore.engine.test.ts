import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '@4pass/builder';
import type { Engine } from '@4pass/builder';
import { dockerignoreExpected, dockerignoreTree, makeTree } from '../fixtures/contexts/make-tree.js';
import type { TreeSpec } from '../fixtures/contexts/make-tree.js';
import { listImageFiles } from '../fixtures/contexts/read-tar.js';
import { engine as sharedEngine, runId, testLabel } from './helpers.js';

const run = promisify(execFile);
const repo = `4pass-test/dockerignore-${runId}`;
const DOCKER_CLI = '/usr/bin/docker'; // Debian's docker.io client (20.10); tests only, never the library

let engine: Engine;
const dirs: string[] = [];
beforeAll(async () => {
  engine = await sharedEngine();
});
afterAll(async () => {
  for (const image of await engine.listImages({ reference: [`${repo}:*`] }))
    await engine.removeImage(image.id, { force: true });
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Builds `FROM scratch` + `COPY . /ctx` with the Docker CLI and with the library; returns both /ctx trees. */
async function compare(name: string, spec: TreeSpec): Promise<{ cli: Map<string, string>; lib: Map<string, string> }> {
  const dir = await makeTree(spec);
  dirs.push(dir);
  await run(DOCKER_CLI, ['build', '-q', '--label', `org.4pass.test=${runId}`, '-t', `${repo}:${name}-cli`, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
  });
  const result = await buildImage({ engine, contextDir: dir, tags: [`${repo}:${name}-lib`], labels: testLabel });
  const list = async (ref: string): Promise<Map<string, string>> => {
    const files = await listImageFiles(await engine.exportImage(ref));
    return new Map([...files].filter(([path]) => path.startsWith('ctx/')).map(([path, type]) => [path.slice(4), type]));
  };
  return { cli: await list(`${repo}:${name}-cli`), lib: await list(result.imageId) };
}

describe('.dockerignore: the library sends what the Docker CLI sends', () => {
  it('agrees on the documentation examples tree (negations, **, directories, leading /, symlinks)', async () => {
    const { cli, lib } = await compare('docs', dockerignoreTree);
    const sorted = (m: Map<string, string>): [string, string][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(cli.size).toBeGreaterThan(20);
    expect(sorted(lib)).toEqual(sorted(cli));
    const files = [...cli]
      .filter(([, type]) => type !== 'directory')
      .map(([path]) => path)
      .sort();
    expect(files).toEqual(dockerignoreExpected); // the CLI really applied the rules we expect
    expect(cli.get('link-to-src')).toBe('symlink');
  });

  it('agrees when .dockerignore excludes itself', async () => {
    const { cli, lib } = await compare('self', {
      Dockerfile: 'FROM scratch\nCOPY . /ctx\n',
      '.dockerignore': '.dockerignore\n*.tmp\n!keep.tmp\n',
      'a.tmp': 'x',
      'keep.tmp': 'k',
      'sub/b.tmp': 'kept: *.tmp is root-only',
    });
    expect([...lib.keys()].sort()).toEqual([...cli.keys()].sort());
    expect(cli.has('.dockerignore')).toBe(false);
    expect(cli.has('keep.tmp')).toBe(true);
  });
});

import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContextError } from '@4pass/builder';
import { createBuildContext } from '../../../packages/builder/src/context/create-build-context.js';
import { createDockerignoreMatcher, parseDockerignore } from '../../../packages/builder/src/context/dockerignore.js';
import { dockerignoreExpected, dockerignoreTree, makeTree } from '../../fixtures/contexts/make-tree.js';
import { readTar } from '../../fixtures/contexts/read-tar.js';

const cleanup: string[] = [];
afterAll(async () => {
  await Promise.all(cleanup.map((d) => rm(d, { recursive: true, force: true })));
});
async function tree(spec: Parameters<typeof makeTree>[0]): Promise<string> {
  const dir = await makeTree(spec);
  cleanup.push(dir);
  return dir;
}

describe('.dockerignore matching (Docker documentation examples)', () => {
  const excludes = (patterns: string[], path: string): boolean => createDockerignoreMatcher(patterns).excludes(path);

  it.each([
    ['*/temp*', 'somedir/temporary.txt', true],
    ['*/temp*', 'somedir/temp', true],
    ['*/temp*', 'temp', false],
    ['*/temp*', 'a/b/temp.txt', false],
    ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
    ['*/*/temp*', 'somedir/temp', false],
    ['temp?', 'tempa', true],
    ['temp?', 'tempab', false],
    ['temp?', 'dir/tempa', false],
    ['**/*.go', 'a.go', true],
    ['**/*.go', 'x/y/z.go', true],
    ['/dir', 'dir/sub/file', true],
    ['dir/', 'dir/file', true],
    ['dir', 'x/dir/file', false],
    ['./a/../b', 'b', true],
    ['Case.TXT', 'case.txt', false],
  ])('%s on %s → excluded=%s', (pattern, path, expected) => {
    expect(excludes([pattern], path)).toBe(expected);
  });

  it('applies exceptions in order (!README*.md)', () => {
    expect(excludes(['*.md', '!README*.md'], 'README-secret.md')).toBe(false);
    expect(excludes(['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md')).toBe(true);
    expect(excludes(['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md')).toBe(false);
    expect(excludes(['*.md', '!README*.md'], 'CHANGELOG.md')).toBe(true);
  });

  it('re-includes a file below an excluded directory', () => {
    expect(excludes(['build', '!build/keep.txt'], 'build/keep.txt')).toBe(false);
    expect(excludes(['build', '!build/keep.txt'], 'build/other.txt')).toBe(true);
  });

  it('parses comments, blank lines and whitespace like moby', () => {
    expect(parseDockerignore('# c\n\n  a  \r\n!b\n #not-a-comment\n')).toEqual(['a', '!b', '#not-a-comment']);
  });
});

describe('createBuildContext', () => {
  it('sends exactly what the Docker CLI sends for the documentation tree', async () => {
    const dir = await tree(dockerignoreTree);
    const ctx = await createBuildContext({ contextDir: dir });
    expect(ctx.files).toEqual(dockerignoreExpected);
    expect(ctx.dockerfileInContext).toBe('Dockerfile');
    expect(ctx.dockerignorePath).toBe(join(dir, '.dockerignore'));
    const { entries } = await readTar(ctx.stream);
    const names = entries.map((e) => e.name.replace(/\/$/, ''));
    expect(names).toEqual([...names].sort());
    expect(names).toContain('empty-dir');
    expect(names).toContain('build'); // parent of a re-included file
    expect(names).not.toContain('node_modules');
    expect(names).not.toContain('logs');
  });

  it('keeps symlinks as symlinks, modes, and normalises owners', async () => {
    const dir = await tree(dockerignoreTree);
    const { entries } = await readTar((await createBuildContext({ contextDir: dir })).stream);
    const link = entries.find((e) => e.name === 'link-to-src');
    expect(link).toMatchObject({ type: 'symlink', linkname: 'src' });
    expect(entries.find((e) => e.name === 'dangling')).toMatchObject({ type: 'symlink', linkname: 'does/not/exist' });
    expect(entries.some((e) => e.name.startsWith('link-to-src/'))).toBe(false);
    expect(entries.find((e) => e.name === 'bin/run.sh')?.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'bin/run.sh')?.content).toBe('#!/bin/sh\necho run\n');
    for (const e of entries) expect([e.uid, e.gid, e.uname, e.gname]).toEqual([0, 0, '', '']);
  });

  it('gives the same bytes for the same tree (independent of creation order)', async () => {
    const spec = { Dockerfile: 'FROM scratch\n', 'b/2.txt': 'two', 'a/1.txt': 'one', 'a-b.txt': 'x', 'z.txt': 'z' };
    const reversed = Object.fromEntries(Object.entries(spec).reverse());
    const [one, two] = [await tree(spec), await tree(reversed)];
    const when = new Date('2024-01-02T03:04:05Z');
    for (const d of [one, two]) {
      for (const p of ['Dockerfile', 'b/2.txt', 'a/1.txt', 'a-b.txt', 'z.txt', 'a', 'b', '.'])
        await utimes(join(d, p), when, when);
    }
    const first = await readTar((await createBuildContext({ contextDir: one })).stream);
    const again = await readTar((await createBuildContext({ contextDir: one })).stream);
    const other = await readTar((await createBuildContext({ contextDir: two })).stream);
    expect(again.sha256).toBe(first.sha256);
    expect(other.sha256).toBe(first.sha256);
    expect(first.entries.map((e) => e.name)).toEqual([
      // fsutil's walk order: depth first, so `a/1.txt` comes before `a-b.txt` ('/' sorts before every other byte).
      'Dockerfile',
      'a',
      'a/1.txt',
      'a-b.txt',
      'b',
      'b/2.txt',
      'z.txt',
    ]);
  });

  it('adds virtual files and directories without touching the tree', async () => {
    const dir = await tree({ Dockerfile: 'FROM scratch\n', 'app/main.py': 'print(1)', 'venv/old.txt': 'replaced' });
    const venv = await tree({ 'bin/python': { symlink: '/usr/bin/python3' }, 'lib/site.py': 'site' });
    const ctx = await createBuildContext({
      contextDir: dir,
      extraEntries: [
        { path: 'app/build-info.json', content: '{"v":1}' },
        { path: './gen/deep/script.sh', content: Buffer.from('echo'), mode: 0o700 },
        { path: 'venv', sourceDir: venv },
      ],
    });
    expect(ctx.files).toEqual([
      'Dockerfile',
      'app/build-info.json',
      'app/main.py',
      'gen/deep/script.sh',
      'venv/bin/python',
      'venv/lib/site.py',
    ]);
    const { entries } = await readTar(ctx.stream);
    expect(entries.find((e) => e.name === 'app/build-info.json')?.content).toBe('{"v":1}');
    expect(entries.find((e) => e.name === 'gen/deep/script.sh')?.mode).toBe(0o700);
    expect(entries.find((e) => e.name === 'gen/deep')?.type).toBe('directory');
    expect(entries.find((e) => e.name === 'venv/bin/python')).toMatchObject({
      type: 'symlink',
      linkname: '/usr/bin/python3',
    });
    await expect(
      createBuildContext({ contextDir: dir, extraEntries: [{ path: '../x', content: '' }] }),
    ).rejects.toBeInstanceOf(ContextError);
  });

  it('sends a Dockerfile from outside the context under a unique name and honours <Dockerfile>.dockerignore', async () => {
    const root = await tree({
      'dockerfiles/api.Dockerfile': 'FROM scratch\nCOPY . /ctx\n',
      'dockerfiles/api.Dockerfile.dockerignore': 'secret.txt\n',
      'examples/.dockerignore': 'public.txt\n',
      'examples/secret.txt': 's',
      'examples/public.txt': 'p',
    });
    const ctx = await createBuildContext({
      contextDir: join(root, 'examples'),
      dockerfile: join(root, 'dockerfiles/api.Dockerfile'),
    });
    expect(ctx.dockerfileInContext).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/);
    expect(ctx.dockerignorePath).toBe(join(root, 'dockerfiles/api.Dockerfile.dockerignore'));
    expect(ctx.files).toEqual([ctx.dockerfileInContext, '.dockerignore', 'public.txt'].sort());
    const { entries } = await readTar(ctx.stream);
    expect(entries.find((e) => e.name === ctx.dockerfileInContext)?.content).toBe('FROM scratch\nCOPY . /ctx\n');
  });

  it('always sends the Dockerfile, even when .dockerignore excludes it', async () => {
    const dir = await tree({
      'docker/Dockerfile': 'FROM scratch\n',
      '.dockerignore': 'docker\n.dockerignore\n',
      'a.txt': 'a',
    });
    const ctx = await createBuildContext({ contextDir: dir, dockerfile: join(dir, 'docker/Dockerfile') });
    expect(ctx.dockerfileInContext).toBe('docker/Dockerfile');
    expect(ctx.files).toEqual(['a.txt', 'docker/Dockerfile']);
  });

  it('names the missing context directory or Dockerfile', async () => {
    const dir = await tree({ 'a.txt': 'a' });
    const missingDir = join(dir, 'nope');
    await expect(createBuildContext({ contextDir: missingDir })).rejects.toThrow(
      `build context directory not found: ${missingDir}`,
    );
    const error = await createBuildContext({ contextDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextError);
    expect((error as ContextError).path).toBe(join(dir, 'Dockerfile'));
    expect((error as Error).message).toBe(`Dockerfile not found: ${join(dir, 'Dockerfile')}`);
  });

  it('streams a large file without reading it whole first', async () => {
    const dir = await tree({ Dockerfile: 'FROM scratch\n' });
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data/big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
    const ctx = await createBuildContext({ contextDir: dir });
    let chunks = 0;
    let max = 0;
    for await (const chunk of ctx.stream) {
      chunks++;
      max = Math.max(max, (chunk as Buffer).length);
    }
    expect(chunks).toBeGreaterThan(16);
    expect(max).toBeLessThan(1024 * 1024);
  });
});

describe('createBuildContext pruning', () => {
  it('skips literal excluded directories without changing the result', async () => {
    const dir = await tree({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'node_modules\n/.git/\nbuild/out\n*.log\n',
      'node_modules/a/index.js': 'x',
      '.git/HEAD': 'ref',
      'build/out/x.bin': 'x',
      'build/keep.txt': 'k',
      'src/node_modules/kept.js': 'kept: node_modules is root-only',
      'a.log': 'x',
    });
    const ctx = await createBuildContext({ contextDir: dir });
    expect(ctx.files).toEqual(['.dockerignore', 'Dockerfile', 'build/keep.txt', 'src/node_modules/kept.js']);
    const matcher = createDockerignoreMatcher(parseDockerignore('node_modules\n/.git/\nbuild/out\n*.log\n'));
    expect(['node_modules', '.git/HEAD', 'build/out/x.bin', 'a.log'].every((p) => matcher.excludes(p))).toBe(true);
  });
});

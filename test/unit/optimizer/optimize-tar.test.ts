import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EmptyTarError,
  InvalidTarError,
  NotSitePackagesError,
  ProfileError,
  defaultProfile,
  generateSmokeProgram,
  optimizeDirectory,
  optimizeTar,
  parseProfile,
  type OptimizeReport,
  type Profile,
} from '@4pass/optimizer';
import { sink, tarfileMembers, type TarfileMember } from './tar-view.js';
import { freshCopy, measure, run, runSmoke, targetInstall, venvInstall } from './wheels.js';

type Member = Pick<
  TarfileMember,
  'name' | 'type' | 'mode' | 'uid' | 'gid' | 'uname' | 'gname' | 'mtime' | 'linkname' | 'sha256'
>;

/** Headers and content digests of a tar, read by Python's tarfile (independent of the code under test). */
async function readTar(file: string): Promise<Member[]> {
  return (await tarfileMembers(file)).map(({ name, type, mode, uid, gid, uname, gname, mtime, linkname, sha256 }) => ({
    name: name.replace(/^\.\//, ''),
    ...{ type, mode, uid, gid, uname, gname, mtime, linkname, sha256 },
  }));
}

async function transform(
  file: string,
  profile: Profile = defaultProfile,
): Promise<{ out: Buffer; report: OptimizeReport }> {
  const s = sink();
  const report = await optimizeTar(createReadStream(file), s.stream, profile);
  return { out: s.bytes(), report };
}

let work: string;
let targetTar: string;
let target: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), '4pass-opt-tar-'));
  const copy = await freshCopy(await targetInstall());
  target = copy.dir;
  // Things a tar must carry through: a symlink, an unusual mode, an owner that is not root.
  await symlink('__init__.py', path.join(target, 'boto3/init-link.py'));
  await symlink('../botocore/data/ec2', path.join(target, 'boto3/ec2-data-link'));
  await chmod(path.join(target, 'bin/jp.py'), 0o750);
  targetTar = path.join(work, 'target.tar');
  await run('tar', ['-C', target, '--owner=app:1234', '--group=appgrp:2345', '-cf', targetTar, '.']);
}, 300_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  await rm(path.dirname(target), { recursive: true, force: true });
});

describe('optimizeTar', () => {
  it('keeps modes, symlinks and ownership, is deterministic, and its report matches the trees', async () => {
    const first = await transform(targetTar);
    const second = await transform(targetTar);
    expect(first.out.equals(second.out)).toBe(true);
    expect(first.report).toEqual(second.report);

    const outTar = path.join(work, 'out.tar');
    await writeFile(outTar, first.out);
    const input = await readTar(targetTar);
    const output = await readTar(outTar);
    const inByName = new Map(input.map((m) => [m.name, m]));
    const rewritten = (name: string): boolean => name === 'botocore/data/endpoints.json' || name.endsWith('/RECORD');
    for (const m of output) {
      const src = inByName.get(m.name);
      expect(src, m.name).toBeDefined();
      expect({ ...m, sha256: '' }).toEqual({ ...src, sha256: '' });
      if (!rewritten(m.name)) expect(m.sha256, m.name).toBe(src?.sha256);
    }
    expect(output.length).toBeLessThan(input.length);
    expect(output.find((m) => m.name === 'bin/jp.py')?.mode).toBe(0o750);
    expect(output.find((m) => m.name === 'boto3/init-link.py')).toMatchObject({
      type: '2', // tarfile.SYMTYPE
      linkname: '__init__.py',
      uname: 'app',
      uid: 1234,
    });
    expect(output.find((m) => m.name === 'boto3/ec2-data-link')).toMatchObject({ linkname: '../botocore/data/ec2' });
    expect(output.some((m) => m.name.startsWith('botocore/data/ec2/'))).toBe(false);
    expect(output.some((m) => m.name.startsWith('pip/'))).toBe(false);

    // Numbers equal what is in the trees, measured by extracting with tar(1).
    const inDir = path.join(work, 'in');
    const outDir = path.join(work, 'out');
    await mkdir(inDir);
    await mkdir(outDir);
    await run('tar', ['-C', inDir, '-xf', targetTar]);
    await run('tar', ['-C', outDir, '-xf', outTar]);
    expect(first.report.before).toEqual(await measure(inDir));
    expect(first.report.after).toEqual(await measure(outDir));

    // The same profile on the same tree as a directory gives the same report.
    const dirReport = await optimizeDirectory(inDir, defaultProfile);
    expect(dirReport).toEqual(first.report);

    const smoke = await runSmoke(generateSmokeProgram(defaultProfile), outDir);
    expect(smoke.stdout).toContain('smoke: OK');
  });

  it('slims an exported venv (venv/ prefix, like the Engine API archive of /opt/venv)', async () => {
    const venv = await venvInstall(['boto3']);
    const venvTar = path.join(work, 'venv.tar');
    await run('tar', [
      '-C',
      path.dirname(venv),
      '--format=posix', // pax headers, as Docker's archive endpoint writes for long names
      '--transform',
      `s,^${path.basename(venv)},venv,`,
      '--exclude',
      '.complete',
      '-cf',
      venvTar,
      path.basename(venv),
    ]);
    const { out, report } = await transform(venvTar);
    expect(report.layout).toMatchObject({
      venvRoot: 'venv',
      binDir: 'venv/bin',
      sitePackages: expect.stringMatching(/^venv\/lib\/python3\.\d+\/site-packages$/) as string,
    });
    await writeFile(path.join(work, 'venv-out.tar'), out);
    const names = (await readTar(path.join(work, 'venv-out.tar'))).map((m) => m.name);
    expect(names).toContain('venv/bin/python');
    expect(names).toContain('venv/pyvenv.cfg');
    expect(names.filter((n) => /^venv\/bin\/pip/.test(n))).toEqual([]);
    expect(names.some((n) => /site-packages\/(pip|setuptools|pkg_resources|_distutils_hack)\//.test(n))).toBe(false);
    expect(names.some((n) => n.endsWith('distutils-precedence.pth'))).toBe(false);

    const dir = path.join(work, 'venv-out');
    await mkdir(dir);
    await run('tar', ['-C', dir, '-xf', path.join(work, 'venv-out.tar')]);
    const site = path.join(dir, report.layout.sitePackages);
    const smoke = await runSmoke(generateSmokeProgram(defaultProfile), site, {
      python: path.join(dir, 'venv/bin/python'),
      pythonPath: false,
    });
    expect(smoke.stderr).toBe('');
    expect(smoke.stdout).toContain('smoke: OK');
  });
});

describe('optimizeTar rejects bad input and writes nothing', () => {
  async function expectNothingWritten(
    input: Readable,
    profile: Profile,
    error: new (...a: never[]) => Error,
    message?: RegExp,
  ): Promise<void> {
    const s = sink();
    const err = await optimizeTar(input, s.stream, profile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(error);
    if (message) expect((err as Error).message).toMatch(message);
    expect(s.bytes().length).toBe(0);
  }

  it('an empty stream and an archive with no entries', async () => {
    await expectNothingWritten(Readable.from([]), defaultProfile, EmptyTarError, /empty/);
    await expectNothingWritten(Readable.from([Buffer.alloc(1024)]), defaultProfile, EmptyTarError);
  });

  it('a truncated tar', async () => {
    const { readFile } = await import('node:fs/promises');
    const head = (await readFile(targetTar)).subarray(0, 100_000 + 17);
    await expectNothingWritten(Readable.from([head]), defaultProfile, InvalidTarError, /Unexpected end of data/);
  });

  it('bytes that are not a tar', async () => {
    await expectNothingWritten(Readable.from([Buffer.alloc(2048, 'x')]), defaultProfile, InvalidTarError);
  });

  async function tarOf(files: Record<string, string>): Promise<Readable> {
    const dir = await mkdtemp(path.join(work, 'small-'));
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), content);
    }
    const file = `${dir}.tar`;
    await run('tar', ['-C', dir, '-cf', file, '.']);
    return createReadStream(file);
  }

  it('a tar of something that is not a site-packages', async () => {
    await expectNothingWritten(
      await tarOf({ 'app/main.py': 'print(1)\n' }),
      defaultProfile,
      NotSitePackagesError,
      /no \*\.dist-info/,
    );
  });

  it('a profile service the archive lacks', async () => {
    const input = await tarOf({
      'x-1.0.dist-info/METADATA': 'Name: x\nVersion: 1.0\n',
      'botocore/data/sqs/2012-11-05/service-2.json': '{"metadata":{"endpointPrefix":"sqs"}}',
    });
    const profile = parseProfile({ aws: { services: ['sqs', 'secretsmanager'] } });
    await expectNothingWritten(input, profile, ProfileError, /unknown AWS service 'secretsmanager'/);
  });
});

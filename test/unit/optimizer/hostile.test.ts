// The optimizer never harms what it does not own: one case per row of issue 20's "Why" list, on trees and archives
// built here, each checked with content hashes and inodes of everything it may not change.
import * as fsp from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApplyError,
  MetadataError,
  NotSitePackagesError,
  SizeLimitError,
  SystemDirectoryError,
  TreeAccessError,
  UnsupportedNameError,
  defaultProfile,
  optimizeDirectory,
  parseProfile,
} from '@4pass/optimizer';
import { applyPlan } from '../../../packages/optimizer/src/plan/apply-plan.js';
import { planDirectory } from '../../../packages/optimizer/src/optimize/optimize-directory.js';
import {
  CLI,
  SP,
  botocoreDist,
  distInfo,
  endpointsJson,
  failingAfter,
  fingerprint,
  gzipBomb,
  immutable,
  runBounded,
  runTs,
  writeVenv,
  type ChildResult,
  type FakeDist,
} from './hostile-trees.js';
import { rootfsNodes, writeRootfs } from '../../fixtures/optimizer/rootfs.js';
import { run, targetInstall } from './wheels.js';

let work: string;
beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(tmpdir(), '4pass-hostile-'));
  await fsp.chmod(work, 0o755); // the cases run as another user reach their trees through it
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

let seq = 0;
/** A fresh directory for one case: `root` (the target, not created) and `outside` (canaries beside it). */
async function fresh(): Promise<{ dir: string; root: string; outside: string }> {
  const dir = path.join(work, `case-${++seq}`);
  const outside = path.join(dir, 'outside');
  await fsp.mkdir(path.join(outside, 'lib'), { recursive: true });
  await fsp.writeFile(path.join(outside, 'canary.txt'), 'do not touch\n');
  await fsp.writeFile(path.join(outside, 'lib/keep.py'), 'x = 1\n');
  return { dir, root: path.join(dir, 'venv'), outside };
}

/** A kept distribution whose RECORD lists a stale .pyc (no source): the pyc goes, so its RECORD is rewritten. */
const KEEPER: FakeDist = {
  name: 'keeper',
  files: {
    'keeper/__init__.py': 'k = 1\n',
    'keeper/data.txt': 'data\n',
    'keeper/__pycache__/gone.cpython-311.pyc': 'stale',
  },
  scripts: ['keep-tool'],
};
const PIP: FakeDist = {
  name: 'pip',
  files: { 'pip/__init__.py': 'p = 1\n', 'pip/_internal/x.py': 'x = 1\n', 'pip/_internal/y.py': 'y = 1\n' },
  scripts: ['pip', 'pip3'],
};
const PIP_PATHS = [`${SP}/pip`, `${SP}/${distInfo(PIP)}`, 'bin/pip', 'bin/pip3'];

/** A fingerprint's lines that are not `prefixes` or below them. */
const without = (print: string, prefixes: readonly string[]): string =>
  print
    .split('\n')
    .filter((l) => !prefixes.some((p) => l.startsWith(`${p} `) || l.startsWith(`${p}/`)))
    .join('\n');

/** A failed CLI run: the exit code, and stderr naming `what`, in one line, with no stack trace. */
function expectCliFailure(r: ChildResult, code: number, what: string): void {
  expect(r.stderr).toContain(what);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
}

describe('outside files rewritten through hard links', () => {
  it('a cp -al clone of real wheels: RECORDs and endpoints.json are new files, the other names keep their content', async () => {
    const { dir } = await fresh();
    const cache = path.join(dir, 'cache');
    const root = path.join(dir, 'site');
    await run('cp', ['-a', await targetInstall(), cache]);
    await run('cp', ['-al', cache, root]);
    const before = fingerprint(cache);
    const report = await optimizeDirectory(root, defaultProfile);
    expect(fingerprint(cache)).toBe(before);
    expect(report.hardLinksSplit).toContain('botocore/data/endpoints.json');
    expect(report.hardLinksSplit.some((p) => /^boto3-.*\.dist-info\/RECORD$/.test(p))).toBe(true);
    const inside = await fsp.stat(path.join(root, 'botocore/data/endpoints.json'));
    const cached = await fsp.stat(path.join(cache, 'botocore/data/endpoints.json'));
    expect(inside.ino).not.toBe(cached.ino);
    expect(inside.size).toBeLessThan(cached.size / 5);
    await expect(fsp.stat(path.join(root, 'pip'))).rejects.toThrow();
  });

  it('the CLI says which link it split; mode and owner carry over to the new file', async () => {
    const { dir, root } = await fresh();
    const cache = path.join(dir, 'cache');
    await writeVenv(cache, [KEEPER, PIP]);
    const record = `${SP}/${distInfo(KEEPER)}/RECORD`;
    await fsp.chmod(path.join(cache, record), 0o640);
    await fsp.chown(path.join(cache, record), 1234, 2345);
    await run('cp', ['-al', cache, root]);
    const before = fingerprint(cache);
    const r = await runTs(CLI, [root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Hard link split: ${record} was written as a new file`);
    expect(fingerprint(cache)).toBe(before);
    const st = await fsp.stat(path.join(root, record));
    expect({ mode: st.mode & 0o777, uid: st.uid, gid: st.gid, nlink: st.nlink }).toEqual({
      mode: 0o640,
      uid: 1234,
      gid: 2345,
      nlink: 1,
    });
    expect(await fsp.readFile(path.join(root, record), 'utf8')).not.toContain('gone.cpython-311.pyc');
    expect(await fsp.readFile(path.join(cache, record), 'utf8')).toContain('gone.cpython-311.pyc');
  });
});

describe('RECORD rows are trusted', () => {
  const HOSTILE_ROWS = [
    '../..',
    './',
    'botocore',
    'botocore/__init__.py',
    '../../../bin/python',
    '../../../bin/activate',
    '../../../bin/keep-tool',
    '../../../pyvenv.cfg',
    '/etc/passwd',
    `${distInfo(KEEPER)}/METADATA`,
    '../../../../outside/canary.txt',
    '../../../../../../../../outside/lib/keep.py',
  ];

  it('removes only the removed distribution’s own files and reports every other row', async () => {
    const { root, outside } = await fresh();
    const evil: FakeDist = {
      ...PIP,
      extraRows: HOSTILE_ROWS,
      topLevel: ['pip', '..', 'botocore'],
      declaredScripts: ['python', '../../outside-script'],
    };
    const boto: FakeDist = { name: 'botocore', files: { 'botocore/__init__.py': 'b = 1\n' } };
    await writeVenv(root, [KEEPER, boto, evil]);
    const outsideBefore = fingerprint(outside);
    const before = fingerprint(root);
    const report = await optimizeDirectory(root, parseProfile({ remove: ['pip'] }));
    expect(fingerprint(outside)).toBe(outsideBefore);
    // Only pip and the stale pyc of keeper (with keeper's RECORD rewritten) changed.
    const changed = [...PIP_PATHS, `${SP}/keeper/__pycache__`, `${SP}/${distInfo(KEEPER)}/RECORD`];
    expect(without(fingerprint(root), changed)).toBe(without(before, changed));
    const skipped = new Map(report.skipped.map((s) => [s.path, s.reason]));
    expect(Object.fromEntries(HOSTILE_ROWS.map((r) => [r, skipped.get(r)]))).toEqual({
      '../..': 'a directory above site-packages (resolves to lib)',
      './': `site-packages itself (resolves to ${SP})`,
      botocore: `a directory (resolves to ${SP}/botocore); RECORD lists files`,
      'botocore/__init__.py': 'also listed by the RECORD of botocore 1.0, which is kept',
      '../../../bin/python': "the environment's interpreter or activation script (resolves to bin/python)",
      '../../../bin/activate': "the environment's interpreter or activation script (resolves to bin/activate)",
      '../../../bin/keep-tool': 'also listed by the RECORD of keeper 1.0, which is kept',
      '../../../pyvenv.cfg': 'pyvenv.cfg (resolves to pyvenv.cfg)',
      '/etc/passwd': 'resolves outside the tree',
      [`${distInfo(KEEPER)}/METADATA`]: 'also listed by the RECORD of keeper 1.0, which is kept',
      '../../../../outside/canary.txt': 'resolves outside the tree',
      '../../../../../../../../outside/lib/keep.py': 'resolves outside the tree',
    });
    expect(skipped.get('..')).toBe('not a module name (top_level.txt)');
    expect(skipped.get('../../outside-script')).toBe('not a script name (entry_points.txt)');
    expect(report.skipped.find((s) => s.path === 'bin/python')?.reason).toBe(
      "the environment's interpreter or activation script",
    );
    for (const d of report.distributions.filter((x) => x.name !== 'pip' && x.name !== 'keeper')) {
      expect(d.after, d.name).toEqual(d.before);
    }
  });

  it('the CLI lists the skipped rows and exits 0', async () => {
    const { root } = await fresh();
    await writeVenv(root, [KEEPER, { ...PIP, extraRows: ['../..', '../../../pyvenv.cfg'] }]);
    const r = await runTs(CLI, [root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Skipped (left alone, 2):');
    expect(r.stdout).toContain('  ../.. (pip 1.0): a directory above site-packages (resolves to lib)');
    expect(r.stdout).toContain('  ../../../pyvenv.cfg (pip 1.0): pyvenv.cfg (resolves to pyvenv.cfg)');
    await expect(fsp.stat(path.join(root, 'pyvenv.cfg'))).resolves.toBeTruthy();
  });
});

describe('half-done runs that cannot be finished', () => {
  it('a directory it cannot change (EPERM, chattr +i) is found before the first change', async () => {
    const { root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    const locked = path.join(root, SP, 'pip/_internal');
    const before = fingerprint(root);
    await immutable(locked, true);
    try {
      const err = await optimizeDirectory(root, defaultProfile).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TreeAccessError);
      expect(err).toMatchObject({ path: locked, code: 'EPERM' });
      expect((err as Error).message).toContain('Nothing was changed');
    } finally {
      await immutable(locked, false);
    }
    expect(fingerprint(root)).toBe(before);
  });

  it('EACCES as a user who may not write: exit 3 naming the directory, nothing changed', async () => {
    const { dir, root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    await run('chown', ['-R', '65534:65534', dir]);
    await fsp.chmod(path.join(root, SP, 'pip/_internal'), 0o555);
    const before = fingerprint(root);
    const r = await runTs(CLI, [root], { uid: 65534 });
    expectCliFailure(r, 3, `cannot change entries of ${path.join(root, SP, 'pip/_internal')} (EACCES)`);
    expect(fingerprint(root)).toBe(before);
  });

  it('a name that is not UTF-8: a typed error naming it before the first change', async () => {
    const { root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    writeFileSync(
      Buffer.concat([Buffer.from(path.join(root, SP, 'pip/_internal/')), Buffer.from([0x62, 0xe9, 0x2e, 0x70, 0x79])]),
      'x',
    );
    const before = fingerprint(root);
    const err = await optimizeDirectory(root, defaultProfile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedNameError);
    expect((err as UnsupportedNameError).path).toBe(path.join(root, SP, 'pip/_internal/b\\xe9.py'));
    expectCliFailure(await runTs(CLI, [root]), 3, 'pip/_internal/b\\xe9.py: the file name is not valid UTF-8');
    expect(fingerprint(root)).toBe(before);
  });

  it('a bad --json path is refused before the first change', async () => {
    const { dir, root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    const before = fingerprint(root);
    await fsp.mkdir(path.join(dir, 'a-dir'));
    const cases: [string, string][] = [
      [path.join(dir, 'missing/report.json'), 'its directory cannot be used (ENOENT)'],
      [path.join(dir, 'a-dir'), 'it is a directory'],
      [path.join(root, 'report.json'), 'it is inside the directory being slimmed'],
    ];
    for (const [json, why] of cases) expectCliFailure(await runTs(CLI, [root, '--json', json]), 3, why);
    expect(fingerprint(root)).toBe(before);
    expect((await fsp.readdir(dir)).sort()).toEqual(['a-dir', 'outside', 'venv']);
  });

  it('a change that fails part-way (EPERM on a file): exit 4 naming it, and a rerun ends where a clean run does', async () => {
    const { dir, root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    const twin = path.join(dir, 'twin');
    await run('cp', ['-a', root, twin]);
    await optimizeDirectory(twin, defaultProfile);
    const locked = path.join(root, SP, 'pip/_internal/y.py');
    await immutable(locked, true);
    let r: ChildResult;
    try {
      r = await runTs(CLI, [root]);
    } finally {
      await immutable(locked, false);
    }
    expectCliFailure(r, 4, `cannot remove ${locked} (EPERM) after `);
    expect(r.stderr).toContain('run the optimizer again');
    // The dist-info goes last: it is still there, so the rerun knows what pip owned.
    await expect(fsp.stat(path.join(root, SP, distInfo(PIP), 'RECORD'))).resolves.toBeTruthy();
    await optimizeDirectory(root, defaultProfile);
    expect(fingerprint(root, { inodes: false })).toBe(fingerprint(twin, { inodes: false }));
  });

  it('a run killed between writing a new RECORD and renaming it: the next run removes the new file', async () => {
    const { dir, root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    const twin = path.join(dir, 'twin');
    await run('cp', ['-a', root, twin]);
    await optimizeDirectory(twin, defaultProfile);
    const left = `${SP}/${distInfo(KEEPER)}/.RECORD.4pass-tmp-4242-0badc0de`;
    await fsp.writeFile(path.join(root, left), 'half written');
    const report = await optimizeDirectory(root, defaultProfile);
    expect(report.warnings).toContain(`removed ${left}, a new file an interrupted run left`);
    expect(fingerprint(root, { inodes: false })).toBe(fingerprint(twin, { inodes: false }));
  });

  it('stopped after any number of changes, a rerun ends where a clean run does (orphans, RECORD last)', async () => {
    const { dir, root } = await fresh();
    const dists: FakeDist[] = [
      { ...KEEPER, requested: true },
      { ...PIP, requested: true },
      { name: 'wheel', files: { 'wheel/__init__.py': 'w\n', 'wheel/cli/x.py': 'x\n' }, requires: ['packaging'] },
      {
        name: 'packaging',
        files: { 'packaging/__init__.py': 'p\n', 'packaging/__pycache__/gone.cpython-311.pyc': 'c' },
      },
      { name: 'nsa', files: { 'ns/a/__init__.py': 'a\n', 'ns/a/__pycache__/__init__.cpython-311.pyc': 'c' } },
      { name: 'setuptools', files: { 'ns/b/__init__.py': 'b\n', 'ns/b/deep/z.py': 'z\n' }, scripts: ['easy'] },
    ];
    await writeVenv(root, dists);
    const clean = path.join(dir, 'clean');
    await run('cp', ['-a', root, clean]);
    const report = await optimizeDirectory(clean, defaultProfile);
    expect(report.orphansRemoved.map((o) => o.name)).toEqual(['packaging']);
    const expected = fingerprint(clean, { inodes: false });
    const plan = await planDirectory(root, defaultProfile);
    const total = plan.removed.size + plan.rewrites.size;
    expect(total).toBeGreaterThan(20);
    for (let n = 0; n < total; n++) {
      const copy = path.join(dir, `stop-${n}`);
      await run('cp', ['-a', root, copy]);
      const err = await applyPlan(copy, await planDirectory(copy, defaultProfile), failingAfter(n)).catch(
        (e: unknown) => e,
      );
      expect(err, `stopped after ${n}`).toBeInstanceOf(ApplyError);
      await optimizeDirectory(copy, defaultProfile);
      expect(fingerprint(copy, { inodes: false }), `stopped after ${n} changes`).toBe(expected);
      await fsp.rm(copy, { recursive: true });
    }
  });
});

describe('bombs', () => {
  const MB256 = 256;

  it('a 3 MB service-2.json.gz of a kept service: SizeLimitError naming it, under 256 MB, nothing changed', async () => {
    const { root } = await fresh();
    const bomb = gzipBomb(100);
    expect(bomb.length).toBeLessThan(4e6);
    const model = 'sqs/2012-11-05/service-2.json.gz';
    await writeVenv(root, [KEEPER, PIP, botocoreDist({ [model]: bomb }, endpointsJson(['sqs', 'ec2']))]);
    const before = fingerprint(root);
    const profile = { aws: { services: ['sqs'], keepCredentialServices: false } };
    const out = await runBounded(['dir', root, JSON.stringify(profile)]);
    expect(out).toMatchObject({ error: 'SizeLimitError', path: `${SP}/botocore/data/${model}` });
    expect(out.message).toContain('decompresses to more than 32 MiB');
    expect(out.maxRssMb).toBeLessThan(MB256);
    expect(fingerprint(root)).toBe(before);
  });

  it('a 400 MB RECORD member in the tar path: SizeLimitError, under 256 MB, no spool file left', async () => {
    const spool = path.join(work, 'spool-record');
    await fsp.mkdir(spool);
    const out = await runBounded(['tar-record', spool]);
    expect(out).toMatchObject({ error: 'SizeLimitError', path: 'x-1.0.dist-info/RECORD' });
    expect(out.maxRssMb).toBeLessThan(MB256);
    expect(await fsp.readdir(spool)).toEqual([]);
  });

  it('a 400 MB data member passes through the tar path under 256 MB, no spool file left', async () => {
    const spool = path.join(work, 'spool-data');
    await fsp.mkdir(spool);
    const out = await runBounded(['tar-data', spool]);
    expect(out.error).toBeUndefined();
    expect((out.result as { written: number }).written).toBeGreaterThan(400 * 2 ** 20);
    expect(out.maxRssMb).toBeLessThan(MB256);
    expect(await fsp.readdir(spool)).toEqual([]);
  });

  it('a 400 MB shared library through the closure: read in parts, written out, under 256 MB', async () => {
    const dir = path.join(work, 'closure-big');
    const big = `opt/venv/${SP}/pkg/big.cpython-311-x86_64-linux-gnu.so`;
    await writeRootfs(dir, rootfsNodes('debian', { [big]: { elf: 'ext-plain.so' } }));
    await fsp.truncate(path.join(dir, big), 400 * 2 ** 20);
    const tar = `${dir}.tar`;
    await run('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', tar, '.']);
    await fsp.rm(dir, { recursive: true });
    const spool = path.join(work, 'spool-closure');
    await fsp.mkdir(spool);
    const out = await runBounded(['closure', tar, spool]);
    await fsp.rm(tar);
    expect(out.error).toBeUndefined();
    expect((out.result as { bytes: number }).bytes).toBeGreaterThan(400 * 2 ** 20);
    expect(out.maxRssMb).toBeLessThan(MB256);
    expect(await fsp.readdir(spool)).toEqual([]);
  });

  it('a RECORD over 16 MiB in a directory: SizeLimitError naming it', async () => {
    const { root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    const record = path.join(root, SP, distInfo(KEEPER), 'RECORD');
    await fsp.writeFile(record, Buffer.alloc(17 << 20, 'a,,\n'));
    const err = await optimizeDirectory(root, defaultProfile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SizeLimitError);
    expect(err).toMatchObject({ path: `${SP}/${distInfo(KEEPER)}/RECORD`, limit: 16 << 20, what: 'read' });
  });
});

describe('broken botocore JSON, unreadable directories and non-UTF-8 names', () => {
  const profile = { aws: { services: ['sqs'], keepCredentialServices: false } };
  const model = 'sqs/2012-11-05/service-2.json';

  it('a broken endpoints.json: MetadataError naming it, exit 3 without a stack trace', async () => {
    const { root } = await fresh();
    await writeVenv(root, [
      KEEPER,
      botocoreDist({ [model]: '{"metadata":{"endpointPrefix":"sqs"}}' }, '{"partitions": ['),
    ]);
    const before = fingerprint(root);
    const err = await optimizeDirectory(root, parseProfile(profile)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as MetadataError).path).toBe(`${SP}/botocore/data/endpoints.json`);
    const r = await runTs(CLI, [root, '--services', 'sqs', '--no-credential-services']);
    expectCliFailure(r, 3, `${SP}/botocore/data/endpoints.json: not valid JSON`);
    expect(r.stderr).toContain('--no-prune-endpoints');
    expect(fingerprint(root)).toBe(before);
  });

  it('a model that is not gzip: MetadataError naming it', async () => {
    const { root } = await fresh();
    await writeVenv(root, [KEEPER, botocoreDist({ [`${model}.gz`]: 'not gzip at all' }, endpointsJson(['sqs']))]);
    const err = await optimizeDirectory(root, parseProfile(profile)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as MetadataError).path).toBe(`${SP}/botocore/data/${model}.gz`);
    expect((err as Error).message).toContain('not gzip data');
  });

  it('an unreadable directory: exit 3 naming it', async () => {
    const { dir, root } = await fresh();
    await writeVenv(root, [KEEPER, PIP]);
    await run('chown', ['-R', '65534:65534', dir]);
    await fsp.chmod(path.join(root, SP, 'keeper'), 0o000);
    const r = await runTs(CLI, [root], { uid: 65534 });
    expectCliFailure(r, 3, `cannot read the directory ${path.join(root, SP, 'keeper')} (EACCES)`);
  });
});

describe('pointed at / or a home directory by mistake', () => {
  it('/ is refused before anything below it is read', async () => {
    const t0 = Date.now();
    const err = await optimizeDirectory('/', defaultProfile, { dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemDirectoryError);
    expect(err).toMatchObject({ dir: '/', found: 'the root of the running system' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expectCliFailure(await runTs(CLI, ['/', '--dry-run']), 3, 'the root of the running system');
  });

  it('a home directory with ~/.local packages, and a Python installation prefix, unless --allow-system', async () => {
    const { dir } = await fresh();
    const home = path.join(dir, 'home');
    await fsp.mkdir(path.join(home, '.local/lib/python3.11/site-packages/x-1.0.dist-info'), { recursive: true });
    const refused = await runTs(CLI, [home, '--dry-run'], { env: { HOME: home } });
    expectCliFailure(refused, 3, 'is the home directory of this user');
    expect(refused.stderr).toContain('--allow-system');
    const prefix = path.join(dir, 'usr');
    await fsp.mkdir(path.join(prefix, 'lib/python3.11/site-packages/x-1.0.dist-info'), { recursive: true });
    await fsp.writeFile(path.join(prefix, 'lib/python3.11/os.py'), '');
    const err = await optimizeDirectory(prefix, defaultProfile, { dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemDirectoryError);
    expect((err as SystemDirectoryError).found).toBe('a Python installation prefix (found lib/python3.11/os.py)');
    const allowed = await optimizeDirectory(prefix, defaultProfile, { dryRun: true, allowSystem: true });
    expect(allowed.layout.sitePackages).toBe('lib/python3.11/site-packages');
  });

  it('a layer root holding a venv, a venv and a site-packages are accepted; a user site below a layer is not', async () => {
    const { dir } = await fresh();
    const layer = path.join(dir, 'layer');
    await writeVenv(path.join(layer, 'opt/venv'), [KEEPER, PIP]);
    const viaLayer = await optimizeDirectory(layer, defaultProfile, { dryRun: true });
    expect(viaLayer.layout).toMatchObject({ venvRoot: 'opt/venv', sitePackages: `opt/venv/${SP}` });
    const viaVenv = await optimizeDirectory(path.join(layer, 'opt/venv'), defaultProfile, { dryRun: true });
    const viaSite = await optimizeDirectory(path.join(layer, 'opt/venv', SP), defaultProfile, { dryRun: true });
    expect(viaVenv.after).toEqual(viaLayer.after);
    expect(viaSite.layout.sitePackages).toBe('');
    const user = path.join(dir, 'user-layer');
    await fsp.mkdir(path.join(user, 'root/.local/lib/python3.11/site-packages/x-1.0.dist-info'), { recursive: true });
    const err = await optimizeDirectory(user, defaultProfile, { dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotSitePackagesError);
    expect((err as Error).message).toContain("is a user's own (~/.local)");
  });
});

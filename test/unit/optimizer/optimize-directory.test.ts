import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NotSitePackagesError,
  ProfileError,
  defaultProfile,
  generateSmokeProgram,
  optimizeDirectory,
  parseProfile,
  planDirectory,
} from '@4pass/optimizer';
import { readInventory } from '../../../packages/optimizer/src/optimize/optimize-directory.js';
import { PYTHON, freshCopy, measure, run, runSmoke, snapshot, targetInstall, venvInstall } from './wheels.js';

let source: string;
const cleanups: (() => Promise<void>)[] = [];
async function copy(): Promise<string> {
  const c = await freshCopy(source);
  cleanups.push(c.cleanup);
  return c.dir;
}

beforeAll(async () => {
  source = await targetInstall();
}, 300_000);
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

describe('readInventory', () => {
  it('lists distributions, sizes and bytecode of a pip --target tree', async () => {
    const inv = await readInventory(source);
    expect(inv.layout.sitePackages).toBe('');
    expect(inv.layout.binDir).toBe('bin');
    expect(inv.layout.pythonTag).toMatch(/^cpython-3\d+$/);
    const names = inv.distributions.map((d) => d.name.toLowerCase());
    expect(names).toEqual(
      expect.arrayContaining(['boto3', 'botocore', 's3transfer', 'pydantic', 'pip', 'setuptools', 'pygments']),
    );
    const botocore = inv.distributions.find((d) => d.name === 'botocore');
    expect(botocore?.topLevel).toEqual(['botocore']);
    expect(botocore?.bytes).toBeGreaterThan(10_000_000);
    expect(inv.awsServices).toContain('ec2');
    expect(inv.bytecode.length).toBeGreaterThan(100);
    expect(inv.bytecode.every((b) => b.sourceExists)).toBe(true);
    const measured = await measure(source);
    // The cache marker is the only file outside the inventory's view… it is in the tree, so it counts too.
    expect(inv.totals).toEqual(measured);
    expect(inv.distributions.reduce((a, d) => a + d.bytes, 0)).toBeLessThanOrEqual(inv.totals.bytes);
  });
});

describe('optimizeDirectory on real wheels', () => {
  it('default profile: report equals what is on disk, smoke program passes, ec2 is gone', async () => {
    const dir = await copy();
    const before = await measure(dir);
    const report = await optimizeDirectory(dir, defaultProfile);
    const after = await measure(dir);
    expect(report.before).toEqual(before);
    expect(report.after).toEqual(after);
    const removedByRules = Object.values(report.rules).reduce((a, r) => a + r.bytes, 0);
    const removedFiles = Object.values(report.rules).reduce((a, r) => a + r.files, 0);
    expect(removedByRules).toBe(before.bytes - after.bytes);
    expect(removedFiles).toBe(before.files - after.files);
    const perDist = report.distributions.reduce((a, d) => a + d.after.bytes, 0);
    expect(perDist).toBe(after.bytes);

    expect(report.services.kept).toEqual(['ecs', 'logs', 'secretsmanager', 'signin', 'sqs', 'sso', 'sso-oidc', 'sts']);
    expect(report.services.endpointPrefixes).toEqual([
      'ecs',
      'logs',
      'oidc',
      'portal.sso',
      'secretsmanager',
      'signin',
      'sqs',
      'sts',
    ]);
    expect(report.rules['remove-distribution'].files).toBeGreaterThan(1000);
    expect(report.rules['aws-endpoints-prune'].rewritten).toBe(1);
    const pip = report.distributions.find((d) => d.name === 'pip');
    expect(pip).toMatchObject({ action: 'removed', after: { bytes: 0, files: 0 } });

    // What must and must not be there.
    for (const gone of [
      'pip',
      'setuptools',
      'pygments',
      '_distutils_hack',
      'distutils-precedence.pth',
      'bin/pip',
      'botocore/data/ec2',
      'boto3/examples',
      'boto3/data/ec2',
      'botocore/data/sqs/2012-11-05/examples-1.json',
    ]) {
      await expect(stat(path.join(dir, gone)), gone).rejects.toThrow();
    }
    for (const kept of [
      'botocore/docs/__init__.py',
      'boto3/docs/__init__.py',
      'botocore/data/endpoints.json',
      'botocore/data/partitions.json',
      'botocore/data/sdk-default-configuration.json',
      'botocore/data/_retry.json',
      'boto3/data/sqs/2012-11-05/resources-1.json',
      'botocore/cacert.pem',
      'bin/jp.py',
    ]) {
      await expect(stat(path.join(dir, kept)), kept).resolves.toBeTruthy();
    }
    const endpoints = JSON.parse(await readFile(path.join(dir, 'botocore/data/endpoints.json'), 'utf8')) as {
      partitions: { services: Record<string, unknown> }[];
    };
    const keys = new Set(endpoints.partitions.flatMap((p) => Object.keys(p.services)));
    expect([...keys].every((k) => report.services.endpointPrefixes.includes(k))).toBe(true);
    expect(Object.keys(endpoints.partitions[0]?.services ?? {})).toEqual(
      expect.arrayContaining(['sqs', 'sts', 'portal.sso', 'oidc']),
    );

    // RECORD of a kept distribution lists exactly what is left of it.
    const botoDistInfo = report.distributions.find((d) => d.name === 'botocore')?.distInfo ?? '';
    const record = await readFile(path.join(dir, botoDistInfo, 'RECORD'), 'utf8');
    const listed = record
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(',')[0] ?? '');
    expect(listed).not.toContain('botocore/data/ec2/2016-11-15/service-2.json.gz');
    for (const p of listed) await expect(stat(path.join(dir, p)), p).resolves.toBeTruthy();

    const smoke = await runSmoke(generateSmokeProgram(defaultProfile), dir);
    expect(smoke.stderr + smoke.stdout).toContain('smoke: OK');
    expect(smoke.code).toBe(0);
    expect(smoke.stdout).toContain('ec2: UnknownServiceError as expected');
    expect(smoke.stdout).toContain('ecs: 9 paginators, 9 waiters');
    // Running it wrote nothing (no bytecode, no caches).
    expect(await measure(dir)).toEqual(after);
  });

  it('a profile keeping only sqs: smoke passes, other services fail', async () => {
    const dir = await copy();
    const profile = parseProfile({ aws: { services: ['sqs'], keepCredentialServices: false } });
    const report = await optimizeDirectory(dir, profile);
    expect(report.services.kept).toEqual(['sqs']);
    expect(report.services.credentialServicesLost.map((c) => c.service)).toEqual(['signin', 'sso', 'sso-oidc']);
    expect(report.warnings.join('\n')).toMatch(/sso.*GetRoleCredentials/);
    const smoke = await runSmoke(generateSmokeProgram(profile), dir);
    expect(smoke.stdout).toContain('smoke: OK');
    expect(smoke.code).toBe(0);
    // The same program with a service the tree lacks fails, naming it.
    const broken = await runSmoke(generateSmokeProgram(parseProfile({ aws: { services: ['sqs', 'ecs'] } })), dir);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('service ecs is not available');
  });

  it('the smoke program checks every kept .py has a valid .pyc when asked', async () => {
    const dir = await copy();
    await optimizeDirectory(dir, defaultProfile);
    // Hash-based pycs, as the worker image compiles them.
    await run(PYTHON, ['-m', 'compileall', '-q', '-f', '--invalidation-mode', 'checked-hash', dir]);
    const program = generateSmokeProgram(defaultProfile, { checkBytecode: true });
    const ok = await runSmoke(program, dir);
    expect(ok.stdout).toMatch(/checked bytecode of \d{3,} modules/);
    expect(ok.code).toBe(0);
    const { rm: remove } = await import('node:fs/promises');
    await remove(path.join(dir, 'boto3/__pycache__/session.cpython-311.pyc'));
    await writeFile(path.join(dir, 'jmespath/lexer.py'), '# edited\n', { flag: 'a' });
    const bad = await runSmoke(program, dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bytecode boto3/session.py: no .pyc');
    expect(bad.stderr).toContain('bytecode jmespath/lexer.py: .pyc source hash mismatch');
  });

  it('the smoke program covers a sourceless tree (compileall -b, .py removed), as the worker image ships it', async () => {
    const dir = await copy();
    const report = await optimizeDirectory(dir, defaultProfile);
    await run(PYTHON, ['-m', 'compileall', '-q', '-b', '--invalidation-mode', 'unchecked-hash', dir]);
    await run('find', [dir, '-name', '*.py', '-type', 'f', '-delete']);
    await run('find', [dir, '-name', '__pycache__', '-type', 'd', '-prune', '-exec', 'rm', '-rf', '{}', '+']);
    const smoke = await runSmoke(generateSmokeProgram(defaultProfile, { checkBytecode: true }), dir);
    expect(smoke.stderr).toBe('');
    expect(smoke.stdout).toContain(`imported ${report.modules.length} modules`);
    expect(smoke.stdout).toMatch(/checked bytecode of \d{3,} modules/);
    expect(smoke.stdout).toContain('smoke: OK');
    expect(report.modules).toEqual(
      expect.arrayContaining(['boto3', 'botocore', 'pydantic', 'six', 'typing_extensions']),
    );
  });

  it('the smoke program fails on the untouched tree (ec2 exists, pip importable)', async () => {
    const smoke = await runSmoke(generateSmokeProgram(defaultProfile), source);
    expect(smoke.code).toBe(1);
    expect(smoke.stderr).toContain('creating a ec2 client should raise UnknownServiceError');
    expect(smoke.stderr).toMatch(/pip is still importable/);
  });

  it('dry run reports the same as a real run and changes nothing', async () => {
    const dir = await copy();
    const before = await snapshot(dir);
    const dry = await optimizeDirectory(dir, defaultProfile, { dryRun: true });
    expect(await snapshot(dir)).toBe(before);
    const real = await optimizeDirectory(dir, defaultProfile);
    expect({ ...dry, dryRun: false }).toEqual(real);
  });

  it('strips tests and non-package docs, keeps test packages that kept code imports', async () => {
    const dir = await copy();
    await mkdir(path.join(dir, 'jmespath/tests'), { recursive: true });
    await writeFile(path.join(dir, 'jmespath/tests/__init__.py'), '');
    await writeFile(path.join(dir, 'jmespath/tests/test_x.py'), 'x = 1\n');
    await mkdir(path.join(dir, 'six_docs/docs'), { recursive: true }); // a folder that is not a package
    await mkdir(path.join(dir, 'urllib3/docs'), { recursive: true });
    await writeFile(path.join(dir, 'urllib3/docs/index.rst'), 'docs\n');
    await mkdir(path.join(dir, 'dateutil/test'), { recursive: true });
    await writeFile(path.join(dir, 'dateutil/test/__init__.py'), '');
    await writeFile(path.join(dir, 'dateutil/test/helpers.py'), 'y = 2\n');
    await writeFile(path.join(dir, 'dateutil/uses_test.py'), 'from .test import helpers\n');
    const report = await optimizeDirectory(dir, defaultProfile);
    await expect(stat(path.join(dir, 'jmespath/tests'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'urllib3/docs'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'dateutil/test/helpers.py'))).resolves.toBeTruthy();
    await expect(stat(path.join(dir, 'botocore/docs/__init__.py'))).resolves.toBeTruthy();
    expect(report.rules['strip-tests']).toMatchObject({ files: 2, bytes: 6 });
    expect(report.rules['strip-docs']).toMatchObject({ files: 1, bytes: 5 });
    expect(report.warnings.join('\n')).toContain(
      'kept dateutil/test: the package dateutil.test is imported by dateutil/uses_test.py',
    );
  });

  it('removes stale bytecode: other interpreters and missing sources', async () => {
    const dir = await copy();
    await writeFile(path.join(dir, 'six_gone.py'), 'x=1\n');
    const cache = path.join(dir, '__pycache__');
    await writeFile(path.join(cache, 'jmespath_gone.cpython-311.pyc'), 'x');
    await writeFile(path.join(dir, 'jmespath/__pycache__/parser.cpython-39.pyc'), 'xy');
    const report = await optimizeDirectory(dir, defaultProfile);
    expect(report.rules['stale-bytecode']).toMatchObject({ files: 2, bytes: 3 });
    await expect(stat(path.join(dir, 'jmespath/__pycache__/parser.cpython-311.pyc'))).resolves.toBeTruthy();
  });
});

describe('optimizeDirectory on a venv root', () => {
  it('finds site-packages, removes pip/setuptools with their scripts and .pth hook, keeps the interpreter', async () => {
    const c = await freshCopy(await venvInstall(['boto3']), 'venv');
    cleanups.push(c.cleanup);
    const dir = c.dir;
    const report = await optimizeDirectory(dir, defaultProfile);
    expect(report.layout).toMatchObject({
      venvRoot: '',
      binDir: 'bin',
      sitePackages: expect.stringMatching(/^lib\/python3\.\d+\/site-packages$/) as string,
    });
    const site = path.join(dir, report.layout.sitePackages);
    for (const gone of [
      'bin/pip',
      'bin/pip3',
      `${report.layout.sitePackages}/pip`,
      `${report.layout.sitePackages}/setuptools`,
      `${report.layout.sitePackages}/pkg_resources`,
      `${report.layout.sitePackages}/_distutils_hack`,
      `${report.layout.sitePackages}/distutils-precedence.pth`,
    ]) {
      await expect(stat(path.join(dir, gone)), gone).rejects.toThrow();
    }
    for (const kept of ['bin/python', 'bin/activate', 'pyvenv.cfg'])
      await expect(stat(path.join(dir, kept)), kept).resolves.toBeTruthy();
    expect(report.after).toEqual(await measure(dir));
    const smoke = await runSmoke(generateSmokeProgram(defaultProfile), site, {
      python: path.join(dir, 'bin/python'),
      pythonPath: false,
    });
    expect(smoke.stderr).toBe('');
    expect(smoke.stdout).toContain('smoke: OK');
  });
});

describe('bad input changes nothing', () => {
  it('unknown service in the tree: ProfileError with a close match, tree untouched', async () => {
    const dir = await copy();
    const before = await snapshot(dir);
    const profile = parseProfile({ aws: { services: ['sqs', 'ecs'] } });
    // A service name botocore knows but this tree lacks (built-in validation passed).
    await import('node:fs/promises').then((fs) => fs.rm(path.join(dir, 'botocore/data/ecs'), { recursive: true }));
    const mid = await snapshot(dir);
    const err = await optimizeDirectory(dir, profile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).issues).toEqual([
      { path: 'aws.services.1', message: expect.stringContaining("unknown AWS service 'ecs'") as string },
    ]);
    expect(await snapshot(dir)).toBe(mid);
    expect(before).not.toBe(mid);
  });

  it('a directory that is not a site-packages: NotSitePackagesError, nothing written', async () => {
    const dir = await copy();
    const sub = path.join(dir, 'botocore');
    const before = await snapshot(sub);
    await expect(optimizeDirectory(sub, defaultProfile)).rejects.toThrow(NotSitePackagesError);
    await expect(optimizeDirectory(sub, defaultProfile)).rejects.toThrow(/no \*\.dist-info directory found/);
    await expect(optimizeDirectory(path.join(dir, 'nope'), defaultProfile)).rejects.toThrow(/cannot read it/);
    expect(await snapshot(sub)).toBe(before);
  });

  it('exposes the removal list for a shell baseline', async () => {
    const plan = await planDirectory(source, defaultProfile);
    expect(plan.removeRoots).toContain('pip');
    expect(plan.removeRoots).toContain('botocore/data/ec2');
    expect(plan.removeRoots).not.toContain('botocore/data/ec2/2016-11-15');
  });
});

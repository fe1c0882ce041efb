import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from '../../harness/exec.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateReportSchema, validateSbom, type CycloneDxBom, type GateReport } from '@4pass/builder';
import { engine } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

const root = resolve(import.meta.dirname, '../..');
/**
 * CPU milliseconds spent by this process's finished children (`cutime + cstime` of /proc/self/stat, Linux): what a
 * CLI run cost, unlike the wall clock, which on a shared machine measures the neighbours.
 */
async function childCpuMs(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10; // USER_HZ = 100
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa(join(root, 'node_modules/.bin/zx'), [join(root, 'scripts/build-images.mjs'), ...args], { cwd: root, env });

describe('pnpm build:images (the CLI over runImages)', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), '4pass-cli-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('explains every flag and the exit codes with --help', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const flag of [
      '--only',
      '--json',
      '--markdown',
      '--junit',
      '--baseline',
      '--no-budget',
      '--push',
      '--registry',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(
      /0 all budgets pass · 1 a budget failed · 2 bad usage or config · 3 a build, engine or registry error/,
    );
  });

  it('exits 2 on an unknown flag and on an unknown image', async () => {
    const flag = await cli(['--frobnicate']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toContain('unknown option --frobnicate');
    const image = await cli(['--only', 'nope', '--no-budget']);
    expect(image.exitCode).toBe(2);
    expect(image.stderr).toMatch(/unknown image "nope" \(configured: api, worker\)/);
  });

  it('exits 2 listing every config problem with its path', async () => {
    const file = join(out, 'bad.config.json');
    await writeFile(
      file,
      JSON.stringify({
        images: [
          {
            name: 'API',
            dockerfile: 'nope.Dockerfile',
            context: '.',
            budgets: { size: '12 parsecs', startupMedian: true },
          },
        ],
      }),
    );
    const r = await cli(['--config', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/images\[0\]\.name/);
    expect(r.stderr).toMatch(/images\[0\]\.budgets\.size/);
    expect(r.stderr).toMatch(/images\[0\]\.budgets\.startupMedian/);
  });

  it('refuses --push without a registry at once: exit 2 naming the fix, under a second, nothing built', async () => {
    const file = join(out, 'no-registry.config.json');
    const repository = `4pass-test/no-registry-${randomBytes(4).toString('hex')}`;
    await writeFile(
      file,
      JSON.stringify({
        images: [
          {
            name: 'api',
            repository,
            dockerfile: join(root, 'dockerfiles/api.Dockerfile'),
            context: join(root, 'examples'),
            target: 'runtime',
          },
        ],
      }),
    );
    const cpuBefore = await childCpuMs();
    const started = performance.now();
    // An engine address where nothing answers: asking the engine anything would end in exit 3, not 2.
    const r = await cli(['--config', file, '--push', '--allow-dirty'], { DOCKER_HOST: 'tcp://127.0.0.1:9' });
    const wallMs = performance.now() - started;
    const cpuMs = (await childCpuMs()) - cpuBefore;
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no registry to push to: pass --registry HOST\[:PORT\], or set "registry"/);
    expect(r.stderr).not.toContain('==> ');
    expect(cpuMs, `CPU ${cpuMs} ms, wall ${Math.round(wallMs)} ms`).toBeLessThan(1000);
    expect(await (await engine()).listImages({ reference: [repository] })).toEqual([]);
  });

  it('treats a bare --config as a usage error (exit 2), not a missing file', async () => {
    const r = await cli(['--config']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--config needs a value');
  });

  it('builds and gates both example images, writing JSON that validates against the exported type, Markdown, JUnit and SBOMs', async () => {
    const json = join(out, 'report.json');
    const r = await cli([
      '--json',
      json,
      '--markdown',
      join(out, 'report.md'),
      '--junit',
      join(out, 'junit.xml'),
      '--sbom',
      join(out, 'sbom'),
      '--progress',
      'plain',
    ]);
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const report: GateReport = gateReportSchema.parse(JSON.parse(await readFile(json, 'utf8')));
    expect(report.pass).toBe(true);
    expect(report.images.map((i) => i.name)).toEqual(['api', 'worker']);
    for (const image of report.images) {
      // The worker is the minimal runtime FROM scratch (~40 MB); the API is the slim base with its app.
      expect(image.sizeBytes).toBeGreaterThan(image.name === 'worker' ? 20_000_000 : 100_000_000);
      expect(image.compressedSizeBytes).toBeLessThan(image.sizeBytes);
      expect(image.startup?.runs.length).toBe(5);
      expect(image.checks.filter((c) => c.status === 'fail')).toEqual([]);
    }
    expect(r.stdout).toMatch(/api\s+PASS\s+\d+(\.\d+)? MB/);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('<!-- 4pass-image-budget -->');
    expect(await readFile(join(out, 'junit.xml'), 'utf8')).toMatch(/<testsuites[^>]*failures="0"/);
    // Progress names each stage with its duration.
    expect(r.stderr).toMatch(/--> api: build done in \d+\.\ds/);
    // The worker pipeline is one build: its report lists every Dockerfile stage, the optimizer's and closure's too.
    expect(r.stderr).toMatch(/worker\/build done in \d+\.\ds: \d+ stages? cached/);
    const workerStages = report.images.find((i) => i.name === 'worker')?.build?.stages.map((s) => s.stage) ?? [];
    expect(workerStages).toEqual(expect.arrayContaining(['builder', 'optimizer', 'rootfs', 'closure', 'minimal']));
    // --sbom: one CycloneDX 1.6 document per image, valid, the one the report summarises.
    expect((await readdir(join(out, 'sbom'))).sort()).toEqual(['api.cdx.json', 'worker.cdx.json']);
    for (const image of report.images) {
      const bom = JSON.parse(await readFile(join(out, 'sbom', `${image.name}.cdx.json`), 'utf8')) as CycloneDxBom;
      await expect(validateSbom(bom, image.name)).resolves.toBeUndefined();
      expect(image.sbom).toMatchObject({ serialNumber: bom.serialNumber, components: bom.components?.length });
      const names = new Set(bom.components?.map((c) => c.name));
      expect([...names]).toEqual(expect.arrayContaining(['botocore', 'pydantic', 'libc6', 'libssl3', 'zlib1g']));
      expect(image.sbom?.files).toBeGreaterThan(0); // the application's files under /app, with their SHA-256
    }
    // The minimal worker (FROM scratch) is checked for what scanners see; the API (on the slim base) is not, by default.
    const visible = (name: string) =>
      report.images.find((i) => i.name === name)?.checks.find((c) => c.id === 'scannerVisible');
    expect(visible('worker')).toMatchObject({ status: 'pass', actual: 0 });
    expect(visible('api')).toBeUndefined();
  });

  describe('--push --registry to a real registry', () => {
    let registry: TestRegistry;
    const password = randomBytes(18).toString('base64url');
    beforeAll(async () => {
      registry = await startRegistry({ password });
    });
    afterAll(async () => {
      await registry?.dispose();
    });

    it('pushes sha-<7> and its gate report after the gate passed, never latest, printing no secret', async () => {
      const sha = randomBytes(20).toString('hex');
      const r = await cli(
        [
          '--only',
          'worker',
          '--push',
          '--registry',
          registry.host,
          '--sha',
          sha,
          '--allow-dirty',
          '--progress',
          'plain',
        ],
        {
          REGISTRY_USERNAME: 'AWS',
          REGISTRY_PASSWORD: password,
        },
      );
      expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
      expect(r.stderr).toContain(`pushed sha-${sha.slice(0, 7)} → sha256:`);
      expect(r.stderr).not.toMatch(/pushed latest/);
      expect(r.stdout + r.stderr).not.toContain(password);
      // Next to the image: its gate report, under the tag that names the image's digest (for releases and
      // --baseline-image). latest is not pushed: only a release moves it.
      const digest = (await registry.manifestDigest('4pass/worker', `sha-${sha.slice(0, 7)}`)) as string;
      const hex = digest.slice('sha256:'.length);
      expect((await registry.listTags('4pass/worker'))?.sort()).toEqual(
        [`sha-${sha.slice(0, 7)}`, `sha256-${hex}.report`, `sha256-${hex}.sbom`].sort(),
      );
      expect(r.stderr).toContain(`SBOM stored as sha256-${hex}.sbom, report stored as sha256-${hex}.report`);
      expect(await registry.manifestDigest('4pass/worker', 'latest')).toBeUndefined();
    });

    it('fails at once with exit 3 and pushes nothing when the password is wrong', async () => {
      const started = Date.now();
      const r = await cli(
        [
          '--only',
          'worker',
          '--no-budget',
          '--push',
          '--registry',
          registry.host,
          '--sha',
          'a'.repeat(40),
          '--allow-dirty',
        ],
        {
          REGISTRY_USERNAME: 'AWS',
          REGISTRY_PASSWORD: 'wrong-password-value',
        },
      );
      expect(r.exitCode).toBe(3);
      expect(Date.now() - started).toBeLessThan(120_000);
      expect(r.stderr).toMatch(/unauthorized|credentials|authentication/i);
      expect(r.stdout + r.stderr).not.toContain('wrong-password-value');
      expect(await registry.listTags('4pass/worker')).not.toContain(`sha-${'a'.repeat(7)}`);
    });
  });
});

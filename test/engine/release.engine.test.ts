import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  validateSbom,
  type CycloneDxBom,
  type GateReport,
  type ReleaseRecord,
  type ReleaseReport,
} from '@4pass/builder/internal';
import { loadArtifact, storeArtifact, imageSubject } from '../../packages/builder/src/push/image-artifacts.js';
import { RegistryHttpClient } from '../../packages/builder/src/push/registry-http-client.js';
import { execa } from '../../harness/exec.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { engine, runId } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

/**
 * Deliberate releases end to end, through the real CLIs against a real registry (behind the fault proxy): what
 * `pnpm build:images --push` leaves (sha-<7> and its gate report, never latest), and what `pnpm release` does with
 * it — moves latest to exactly the pushed digest, refuses what was never gated or failed its gate, moves nothing the
 * second time, says when it rolls back, and leaves latest where it was when the registry dies while it is written.
 * One tiny image (`FROM scratch`, one file), built for three commits: no base image, no start-up run.
 */
const root = resolve(import.meta.dirname, '../..');
const zx = join(root, 'node_modules/.bin/zx');
const repository = `4pass-test/release-${runId}`;
const password = `pw-${randomBytes(12).toString('hex')}`;
const commits = {
  a: { sha: randomBytes(20).toString('hex'), epoch: '1700000000' },
  b: { sha: randomBytes(20).toString('hex'), epoch: '1700100000' },
  c: { sha: randomBytes(20).toString('hex'), epoch: '1700200000' },
};
const tagOf = (commit: keyof typeof commits) => `sha-${commits[commit].sha.slice(0, 7)}`;

let dir: string;
let registry: TestRegistry;
let proxy: FaultProxy;
let client: RegistryHttpClient;
const digests: Partial<Record<keyof typeof commits, string>> = {};

const env = { REGISTRY_USERNAME: 'AWS', REGISTRY_PASSWORD: password, GITHUB_ACTOR: 'release-test' };
const cli = (script: string, args: string[], extra: Record<string, string> = {}) =>
  execa(zx, [join(root, 'scripts', script), ...args], { cwd: dir, env: { ...env, ...extra } });

/** `build:images --push` of the tiny image at `commit`, to the registry behind the proxy. */
async function push(commit: keyof typeof commits): Promise<string> {
  const { sha, epoch } = commits[commit];
  const args = ['--no-budget', '--push', '--registry', proxy.host, '--sha', sha, '--progress', 'plain'];
  const r = await cli('build-images.mjs', args, { SOURCE_DATE_EPOCH: epoch });
  expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
  const digest = (await registry.manifestDigest(repository, tagOf(commit))) as string;
  expect(digest).toMatch(/^sha256:/);
  digests[commit] = digest;
  return digest;
}

/** `pnpm release --from sha-<7>`, with its JSON report. */
async function release(commit: keyof typeof commits | string, name = `${randomBytes(4).toString('hex')}.json`) {
  const from = commit in commits ? tagOf(commit as keyof typeof commits) : commit;
  const json = join(dir, name);
  const r = await cli('release.mjs', ['--registry', proxy.host, '--from', from, '--json', json]);
  const report = r.exitCode === 2 ? undefined : (JSON.parse(await readFile(json, 'utf8')) as ReleaseReport);
  return { ...r, report, image: report?.images[0] };
}

const latest = () => registry.manifestDigest(repository, 'latest');
const tags = async () => ((await registry.listTags(repository)) ?? []).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), '4pass-release-'));
  registry = await startRegistry({ password });
  proxy = await startFaultProxy(registry.host);
  client = new RegistryHttpClient({
    host: registry.host,
    scheme: 'http',
    auth: { username: 'AWS', password, serveraddress: registry.host },
  });
  await writeFile(join(dir, 'payload.txt'), `${runId}\n`);
  await writeFile(
    join(dir, 'Dockerfile'),
    `FROM scratch\nLABEL org.4pass.test=${runId}\nCOPY payload.txt /payload.txt\n`,
  );
  const config = {
    network: { requestTimeout: '5s', idleTimeout: '5s', retries: 1 },
    images: [{ name: 'tiny', repository, dockerfile: 'Dockerfile', context: '.' }],
  };
  await writeFile(join(dir, 'images.config.json'), `${JSON.stringify(config, null, 2)}\n`);
});

afterAll(async () => {
  const e = await engine();
  for (const image of await e.listImages({ label: [`org.4pass.test=${runId}`] }))
    await e.removeImage(image.id, { force: true });
  await proxy?.close();
  await registry?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pnpm build:images --push, then pnpm release (real registry)', () => {
  it('--push pushes sha-<7> with its SBOM and gate report next to it (the report linking the SBOM), and no latest', async () => {
    const digest = await push('a');
    const hex = digest.slice(7);
    expect(await tags()).toEqual([tagOf('a'), `sha256-${hex}.report`, `sha256-${hex}.sbom`].sort());
    expect(await latest()).toBeUndefined();
    const sbom = await loadArtifact(client, { kind: 'sbom', name: repository, imageDigest: digest });
    const report = await loadArtifact(client, { kind: 'report', name: repository, imageDigest: digest });
    await expect(validateSbom(sbom?.content as CycloneDxBom)).resolves.toBeUndefined();
    const image = (report?.content as GateReport).images[0]!;
    expect(image.sbom).toMatchObject({
      format: 'CycloneDX',
      specVersion: '1.6',
      serialNumber: (sbom?.content as CycloneDxBom).serialNumber,
      stored: { tag: `sha256-${hex}.sbom`, digest: sbom?.digest },
    });
    expect((sbom?.content as CycloneDxBom).metadata.component?.['bom-ref']).toBe(image.imageId);
  });

  it('release moves latest to exactly the pushed digest, marks it released and records it next to the image', async () => {
    const r = await release('a');
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const digest = digests.a as string;
    expect(await latest()).toBe(digest);
    expect(r.image).toMatchObject({
      status: 'released',
      digest,
      reference: `${proxy.host}/${repository}@${digest}`,
      commit: commits.a.sha,
      previous: null,
      rollback: false,
    });
    expect(r.stdout).toContain(`Result: RELEASED ${tagOf('a')} as latest: 1 image`);
    expect(r.image?.checks.map((c) => `${c.id}:${c.status}`)).toEqual(
      expect.arrayContaining(['sbom:pass', 'sbom-content:pass']),
    );
    expect(await tags()).toEqual(
      [
        tagOf('a'),
        'latest',
        `release-${tagOf('a')}`,
        `sha256-${digest.slice(7)}.report`,
        `sha256-${digest.slice(7)}.sbom`,
        r.image?.record?.tag,
      ].sort(),
    );
    const record = await loadArtifact(client, {
      kind: 'release',
      name: repository,
      imageDigest: digest,
      qualifier: r.image?.record?.tag.split('.release-')[1] as string,
    });
    expect(record?.subject).toBe(digest);
    const expected: Partial<ReleaseRecord> = {
      digest,
      commit: commits.a.sha,
      releasedBy: 'release-test',
      to: 'latest',
    };
    expect(record?.content).toMatchObject(expected);
    expect((record?.content as ReleaseRecord).report.tag).toBe(`sha256-${digest.slice(7)}.report`);
  });

  it('a second release of the same sha moves nothing and records nothing', async () => {
    const before = await tags();
    const r = await release('a');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.image).toMatchObject({ status: 'unchanged', tags: [], record: null });
    expect(r.stderr).toContain('latest already names');
    expect(await tags()).toEqual(before);
    expect(await latest()).toBe(digests.a);
  });

  it('a later --push leaves latest where it was; releasing it moves latest; releasing the older sha is a rollback', async () => {
    await push('b');
    expect(await latest()).toBe(digests.a);
    const forward = await release('b');
    expect(forward.exitCode, forward.stderr).toBe(0);
    expect(await latest()).toBe(digests.b);
    const back = await release('a');
    expect(back.exitCode, back.stderr).toBe(0);
    expect(back.image).toMatchObject({ status: 'released', rollback: true, previous: digests.b });
    expect(back.stdout).toContain('RELEASED (rollback)');
    expect(await latest()).toBe(digests.a);
  });

  it('a registry that dies while latest is written: exit 3, latest where it was', async () => {
    proxy.setRules([{ method: 'PUT', path: /\/manifests\/latest$/, mode: 'drop' }]);
    try {
      const r = await release('b');
      expect(r.exitCode, r.stderr + r.stdout).toBe(3);
      expect(r.image?.status).toBe('failed');
      expect(r.image?.message).toMatch(
        /point \S+:latest at sha256:\w+ failed: registry \S+ is unavailable \(2 attempts\)/,
      );
      expect(r.stdout).toContain('Result: FAILED');
      expect(proxy.requests.filter((q) => q.mode === 'drop').length).toBe(2);
    } finally {
      proxy.setRules([]);
    }
    expect(await latest()).toBe(digests.a);
  });

  it('refuses a sha without its SBOM, one never gated, one whose gate failed, one never pushed: exit 1, nothing moves', async () => {
    const digest = await push('c');
    const remove = (manifest: string) =>
      fetch(`http://${registry.host}/v2/${repository}/manifests/${manifest}`, {
        method: 'DELETE',
        headers: { Authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` },
      });
    // A passing gate report, but no SBOM next to the image.
    const sbom = await loadArtifact(client, { kind: 'sbom', name: repository, imageDigest: digest });
    expect((await remove(sbom?.digest as string)).status).toBe(202);
    const noSbom = await release('c');
    expect(noSbom.exitCode, noSbom.stderr).toBe(1);
    expect(noSbom.image?.checks.find((c) => c.status === 'fail')?.id).toBe('sbom');
    expect(noSbom.stdout).toMatch(/✗ sbom: no SBOM is stored for sha256:\w+: it was never gated/);
    expect(await latest()).toBe(digests.a);

    const stored = await loadArtifact(client, { kind: 'report', name: repository, imageDigest: digest });
    // Never gated: the sha image without a report next to it.
    expect((await remove(stored?.digest as string)).status).toBe(202);
    const never = await release('c');
    expect(never.exitCode, never.stderr).toBe(1);
    expect(never.image?.status).toBe('refused');
    expect(never.stdout).toMatch(/✗ report: no gate report is stored for sha256:\w+: it was never gated/);
    expect(await latest()).toBe(digests.a);

    // Its gate failed: the report stored next to it says so.
    const failed = structuredClone(stored?.content) as { pass: boolean; images: { pass: boolean }[] };
    failed.pass = false;
    failed.images[0]!.pass = false;
    const subject = (await imageSubject(client, repository, digest))!;
    await storeArtifact(client, { kind: 'report', name: repository, subject, content: failed });
    const red = await release('c');
    expect(red.exitCode, red.stderr).toBe(1);
    expect(red.stdout).toMatch(/✗ report-pass: the gate failed on /);
    expect(await latest()).toBe(digests.a);

    const unknown = await release('sha-0000000');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toContain('does not exist: nothing was pushed under that tag');
    expect(await latest()).toBe(digests.a);
    expect(await tags()).not.toContain(`release-${tagOf('c')}`);
  });

  it('bad usage exits 2 before any request', async () => {
    const seen = proxy.requests.length;
    const r = await cli('release.mjs', ['--registry', proxy.host, '--from', 'latest']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--from latest: expected sha-<7 hex digits>');
    expect(proxy.requests.length).toBe(seen);
  });
});

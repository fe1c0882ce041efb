import { describe, expect, it } from 'vitest';
import {
  promoteImage,
  RegistryServerError,
  ReleaseRefusedError,
  type PromoteImageOptions,
  type ReleaseEvent,
  type ReleaseRecord,
} from '@4pass/builder/internal';
import { imageSubject, loadArtifact, storeArtifact } from '../../../packages/builder/src/push/image-artifacts.js';
import { gateReport, pushGated } from './gated-image.js';
import { memoryRegistry, memoryRegistryFetch, type MemoryRegistry } from './memory-registry.js';

const NAME = '4pass/api';
const SHA_A = 'a1'.repeat(20);
/** The api image at SHA_A, gated (pass) with its report and SBOM unless a test says otherwise. */
const GATED_A = { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' } as const;
const SHA_B = 'b2'.repeat(20);
const NOW = new Date('2025-06-01T10:20:30Z');

function setup() {
  const registry = memoryRegistry();
  const requests: string[] = [];
  const events: ReleaseEvent[] = [];
  const promote = (from: string, extra: Partial<PromoteImageOptions> = {}) =>
    promoteImage({
      registry: { host: 'registry.test' },
      name: NAME,
      from,
      env: { GITHUB_ACTOR: 'octocat', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42' },
      fetch: memoryRegistryFetch(registry, requests),
      retries: { max: 1, baseDelayMs: 1 },
      sleep: async () => undefined,
      now: () => NOW,
      onEvent: (e) => events.push(e),
      ...extra,
    });
  const puts = () => requests.filter((r) => r.startsWith('PUT') && r.includes('/manifests/'));
  return { registry, requests, events, promote, puts };
}

const releaseRecord = async (registry: MemoryRegistry, digest: string) =>
  (await loadArtifact(registry, { kind: 'release', name: NAME, imageDigest: digest, qualifier: '20250601-102030' }))
    ?.content as ReleaseRecord | undefined;

describe('promoteImage: a gated sha image becomes latest, in the registry', () => {
  it('points latest at exactly the gated manifest, marks it released and records who, when, which commit and report', async () => {
    const { registry, promote, events, puts } = setup();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    const result = await promote(a.tag);
    expect(result).toMatchObject({
      repository: `registry.test/${NAME}`,
      status: 'released',
      digest: a.digest,
      reference: `registry.test/${NAME}@${a.digest}`,
      previous: null,
      rollback: false,
      commit: SHA_A,
      tags: [
        { tag: 'release-sha-a1a1a1a', digest: a.digest },
        { tag: 'latest', digest: a.digest },
      ],
    });
    expect(registry.digestOf(NAME, 'latest')).toBe(a.digest);
    expect(registry.digestOf(NAME, 'release-sha-a1a1a1a')).toBe(a.digest);
    // Manifests only: the image's own bytes under two tags, then the record; no layer, no blob of the image.
    expect(puts()).toEqual([
      `PUT /v2/${NAME}/manifests/release-sha-a1a1a1a`,
      `PUT /v2/${NAME}/manifests/latest`,
      `PUT /v2/${NAME}/manifests/sha256-${a.digest.slice(7)}.release-20250601-102030`,
    ]);
    expect(result.record?.tag).toBe(`sha256-${a.digest.slice(7)}.release-20250601-102030`);
    expect(await releaseRecord(registry, a.digest)).toEqual({
      schemaVersion: 1,
      repository: `registry.test/${NAME}`,
      digest: a.digest,
      reference: result.reference,
      from: a.tag,
      to: 'latest',
      commit: SHA_A,
      releasedAt: NOW.toISOString(),
      releasedBy: 'octocat',
      run: 'https://github.com/o/r/actions/runs/42',
      report: result.report,
      previous: null,
      rollback: false,
    });
    expect(result.report.tag).toBe(`sha256-${a.digest.slice(7)}.report`);
    expect(events.map((e) => (e.type === 'tag-pointed' ? `${e.type} ${e.tag}` : e.type))).toEqual([
      'checked',
      'tag-pointed release-sha-a1a1a1a',
      'tag-pointed latest',
      'recorded',
    ]);
  });

  it('a second release of the same sha moves nothing and records nothing', async () => {
    const { registry, promote, puts } = setup();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    await promote(a.tag);
    const before = puts().length;
    const again = await promote(a.tag);
    expect(again).toMatchObject({ status: 'unchanged', previous: a.digest, record: null, tags: [] });
    expect(puts().length).toBe(before);
  });

  it('releasing an older sha is a rollback, and says so (in the result and the record)', async () => {
    const { registry, promote } = setup();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    const b = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_B, created: '2025-05-02T00:00:00Z' });
    expect((await promote(a.tag)).rollback).toBe(false);
    expect(await promote(b.tag)).toMatchObject({ status: 'released', previous: a.digest, rollback: false });
    const back = await promote(a.tag, { now: () => new Date('2025-06-02T00:00:00Z') });
    expect(back).toMatchObject({ status: 'released', previous: b.digest, rollback: true, digest: a.digest });
    expect(registry.digestOf(NAME, 'latest')).toBe(a.digest);
    const record = await loadArtifact(registry, {
      kind: 'release',
      name: NAME,
      imageDigest: a.digest,
      qualifier: '20250602-000000',
    });
    expect(record?.content).toMatchObject({ rollback: true, previous: { digest: b.digest, commit: SHA_B } });
  });
});

describe('promoteImage on Amazon ECR', () => {
  it('finds the registry by account and region, with the ECR token as the registry credentials', async () => {
    const registry = memoryRegistry();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const seen: string[] = [];
    const inner = memoryRegistryFetch(registry);
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push(`${new URL(String(input)).host} ${new Headers(init?.headers).get('authorization')}`);
      return inner(input, init);
    }) as typeof globalThis.fetch;
    const ecr = {
      registryHost: host,
      getRegistryAuth: async () => ({ username: 'AWS', password: 'ecr-token', serveraddress: host }),
      ensureRepository: async () => Promise.reject(new Error('not called')),
      getTagDigest: async () => undefined,
      retag: async () => Promise.reject(new Error('not called')),
    };
    const result = await promoteImage({
      registry: { accountId: '123456789012', region: 'eu-west-1' },
      ecr,
      name: NAME,
      from: a.tag,
      fetch,
      env: {},
    });
    expect(result.reference).toBe(`${host}/${NAME}@${a.digest}`);
    expect(new Set(seen)).toEqual(new Set([`${host} Basic ${Buffer.from('AWS:ecr-token').toString('base64')}`]));
    expect(registry.digestOf(NAME, 'latest')).toBe(a.digest);
  });
});

describe('promoteImage refuses, and then nothing moves', () => {
  async function refused(
    prepare: (registry: MemoryRegistry) => Promise<string>,
  ): Promise<{ error: ReleaseRefusedError; puts: string[]; registry: MemoryRegistry }> {
    const { registry, promote, puts } = setup();
    const from = await prepare(registry);
    const error = await promote(from).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(registry.digestOf(NAME, 'latest')).toBeUndefined();
    return { error: error as ReleaseRefusedError, puts: puts(), registry };
  }

  it('a sha that was never pushed', async () => {
    const { error, puts } = await refused(async () => 'sha-0000000');
    expect(error.message).toBe(
      `refusing to release registry.test/${NAME}:sha-0000000: registry.test/${NAME}:sha-0000000 does not exist: nothing was pushed under that tag. Nothing was moved.`,
    );
    expect(puts).toEqual([]);
  });

  it('a sha that was never gated (no report next to it)', async () => {
    const { error, puts } = await refused(async (registry) => {
      const a = await pushGated(registry, { ...GATED_A, report: false });
      return a.tag;
    });
    expect(error.message).toMatch(/no gate report is stored for sha256:[0-9a-f]{64}: it was never gated/);
    expect(error.checks.map((c) => `${c.id}:${c.status}`)).toEqual(['image:pass', 'report:fail', 'sbom:fail']);
    expect(puts).toEqual([]);
  });

  it('a gated sha whose SBOM is missing, or describes another image', async () => {
    const missing = await refused(async (registry) => (await pushGated(registry, { ...GATED_A, sbom: false })).tag);
    expect(missing.error.checks.map((c) => `${c.id}:${c.status}`)).toEqual([
      'image:pass',
      'report:pass',
      'report-digest:pass',
      'report-pass:pass',
      'sbom:fail',
    ]);
    expect(missing.error.message).toMatch(/no SBOM is stored for sha256:[0-9a-f]{64}: it was never gated/);
    expect(missing.puts).toEqual([]);

    const other = await refused(async (registry) => (await pushGated(registry, { ...GATED_A, sbom: 'other' })).tag);
    expect(other.error.checks.find((c) => c.status === 'fail')).toMatchObject({
      id: 'sbom-content',
      message: expect.stringMatching(/the SBOM at sha256-\w+\.sbom describes sha256:9{64}, not this image/),
    });
  });

  it('a sha whose gate failed', async () => {
    const { error, puts } = await refused(async (registry) => {
      const a = await pushGated(registry, { ...GATED_A, report: 'fail' });
      return a.tag;
    });
    expect(error.message).toMatch(/the gate failed on 2025-05-01T00:00:00.000Z: size=[\d.]+ MB > budget=1 MB/);
    expect(puts).toEqual([]);
  });

  it("a report stored under the image's tag that names another image, or measured another image", async () => {
    const { error } = await refused(async (registry) => {
      const a = await pushGated(registry, { ...GATED_A, report: false });
      const b = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_B, created: '2025-05-01T00:00:00Z' });
      // B's report artifact copied under A's report tag: it names B.
      const bReport = registry.tags.get(`${NAME}:sha256-${b.digest.slice(7)}.report`)!;
      registry.tags.set(`${NAME}:sha256-${a.digest.slice(7)}.report`, bReport);
      return a.tag;
    });
    expect(error.checks.find((c) => c.status === 'fail')).toMatchObject({
      id: 'report-digest',
      message: expect.stringMatching(/the gate report at sha256-\w+\.report names sha256:\w+, not this image/),
    });

    const other = await refused(async (registry) => {
      const a = await pushGated(registry, { ...GATED_A, report: false });
      const subject = (await imageSubject(registry, NAME, a.digest))!;
      const content = gateReport('api', `sha256:${'9'.repeat(64)}`);
      await storeArtifact(registry, { kind: 'report', name: NAME, subject, content });
      return a.tag;
    });
    expect(other.error.message).toMatch(/the gate report at \S+ measured sha256:9{64}, not this image/);
  });
});

describe('promoteImage against a registry that fails', () => {
  it('dies while latest is being written: latest stays where it was, a registry error after the retries', async () => {
    const { registry, promote } = setup();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    const b = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_B, created: '2025-05-02T00:00:00Z' });
    await promote(a.tag);
    registry.fail = (op, _name, ref) => (op === 'putManifest' && ref === 'latest' ? new Error('down') : undefined);
    const error = await promote(b.tag).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryServerError);
    expect((error as Error).message).toMatch(
      /^point registry\.test\/4pass\/api:latest at sha256:\w+ failed: .*\(HTTP 500\), 2 attempts/,
    );
    expect(registry.digestOf(NAME, 'latest')).toBe(a.digest);
  });

  it('drops the connection for good while the evidence is read: nothing is written at all', async () => {
    const { registry, promote, puts } = setup();
    const a = await pushGated(registry, { name: NAME, image: 'api', sha: SHA_A, created: '2025-05-01T00:00:00Z' });
    registry.fail = (op) => (op === 'getBlob' ? new Error('drop') : undefined);
    const error = await promote(a.tag).catch((e: unknown) => e);
    expect((error as Error).name).toBe('RegistryUnavailableError');
    expect(puts()).toEqual([]);
    expect(registry.digestOf(NAME, 'latest')).toBeUndefined();
  });

  it('refuses what is not a tag or digest before any request', async () => {
    const { promote, requests } = setup();
    await expect(promote('not a tag')).rejects.toThrow(RangeError);
    await expect(promote('sha-abc1234', { to: 'bad tag' })).rejects.toThrow(RangeError);
    expect(requests).toEqual([]);
  });
});

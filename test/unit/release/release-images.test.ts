import { describe, expect, it } from 'vitest';
import {
  RegistrySettingsError,
  releaseExitCode,
  releaseImages,
  renderReleaseMarkdown,
  renderReleaseText,
  RELEASE_MARKDOWN_MARKER,
  type ReleaseImagesOptions,
} from '@4pass/builder';
import { pushGated, releaseConfig } from './gated-image.js';
import { memoryRegistry, memoryRegistryFetch } from './memory-registry.js';

const SHA = 'c3'.repeat(20);
const OLD = 'd4'.repeat(20);
const FROM = `sha-${SHA.slice(0, 7)}`;

function setup() {
  const registry = memoryRegistry();
  const requests: string[] = [];
  const release = (extra: Partial<ReleaseImagesOptions> = {}) =>
    releaseImages({
      config: releaseConfig(),
      from: FROM,
      env: {},
      fetch: memoryRegistryFetch(registry, requests),
      sleep: async () => undefined,
      now: () => new Date('2025-06-01T00:00:00Z'),
      ...extra,
    });
  const puts = () => requests.filter((r) => r.startsWith('PUT') && r.includes('/manifests/'));
  return { registry, requests, release, puts };
}

const gate = { sha: SHA, created: '2025-05-01T00:00:00Z' };

describe('releaseImages (pnpm release)', () => {
  it('releases every image of the config and reports each digest-pinned reference; exit 0', async () => {
    const { registry, release } = setup();
    const api = await pushGated(registry, { name: '4pass/api', image: 'api', ...gate });
    const worker = await pushGated(registry, { name: '4pass/worker', image: 'worker', ...gate });
    const report = await release();
    expect(report).toMatchObject({
      schemaVersion: 1,
      kind: 'release',
      from: FROM,
      to: 'latest',
      pass: true,
      summary: { images: 2, released: 2, unchanged: 0, refused: 0, failed: 0, skipped: 0 },
    });
    expect(report.images.map((i) => [i.name, i.status, i.reference])).toEqual([
      ['api', 'released', `registry.test/4pass/api@${api.digest}`],
      ['worker', 'released', `registry.test/4pass/worker@${worker.digest}`],
    ]);
    expect(releaseExitCode(report)).toBe(0);
    expect(registry.digestOf('4pass/worker', 'latest')).toBe(worker.digest);
    const again = await release();
    expect(again.images.map((i) => i.status)).toEqual(['unchanged', 'unchanged']);
    expect(releaseExitCode(again)).toBe(0);
  });

  it('one image refused: nothing moves, not even the images that passed; exit 1, saying why', async () => {
    const { registry, release, puts } = setup();
    await pushGated(registry, { name: '4pass/api', image: 'api', ...gate });
    await pushGated(registry, { name: '4pass/worker', image: 'worker', ...gate, report: 'fail' });
    const report = await release();
    expect(report.images.map((i) => [i.name, i.status, i.message])).toEqual([
      ['api', 'skipped', 'not released: worker was refused'],
      ['worker', 'refused', expect.stringMatching(/^the gate failed on .*size=/)],
    ]);
    expect(releaseExitCode(report)).toBe(1);
    expect(puts()).toEqual([]);
    expect(renderReleaseText(report)).toContain('Result: REFUSED: nothing was released; latest stays where it was');
  });

  it('--only releases the named images only', async () => {
    const { registry, release } = setup();
    await pushGated(registry, { name: '4pass/api', image: 'api', ...gate });
    const report = await release({ only: ['api'] });
    expect(report.images.map((i) => [i.name, i.status])).toEqual([['api', 'released']]);
    expect(registry.digestOf('4pass/worker', 'latest')).toBeUndefined();
    await expect(release({ only: ['nope'] })).rejects.toThrow(/unknown image "nope"/);
  });

  it('a registry failure on the first image stops the rest: exit 3, the report says what moved', async () => {
    const { registry, release } = setup();
    const oldApi = await pushGated(registry, {
      name: '4pass/api',
      image: 'api',
      sha: OLD,
      created: '2025-04-01T00:00:00Z',
    });
    registry.tags.set('4pass/api:latest', oldApi.digest);
    await pushGated(registry, { name: '4pass/api', image: 'api', ...gate });
    await pushGated(registry, { name: '4pass/worker', image: 'worker', ...gate });
    registry.fail = (op, _n, ref) => (op === 'putManifest' && ref === 'latest' ? new Error('down') : undefined);
    const report = await release();
    expect(report.images.map((i) => [i.name, i.status])).toEqual([
      ['api', 'failed'],
      ['worker', 'skipped'],
    ]);
    expect(report.images[0]?.tags.map((t) => t.tag)).toEqual([`release-${FROM}`]);
    expect(report.images[1]?.message).toBe('not attempted: the release of api failed');
    expect(releaseExitCode(report)).toBe(3);
    expect(registry.digestOf('4pass/api', 'latest')).toBe(oldApi.digest);
    expect(registry.digestOf('4pass/worker', 'latest')).toBeUndefined();
    expect(renderReleaseText(report)).toMatch(
      /api:\n {2}point .*HTTP 500.*\n {2}moved before the failure: release-sha-c3c3c3c\n/,
    );
  });

  it('says a rollback is one, in the report and its renderings', async () => {
    const { registry, release } = setup();
    const newer = await pushGated(registry, {
      name: '4pass/api',
      image: 'api',
      sha: OLD,
      created: '2025-05-20T00:00:00Z',
    });
    registry.tags.set('4pass/api:latest', newer.digest);
    await pushGated(registry, { name: '4pass/api', image: 'api', ...gate });
    const report = await release({ only: ['api'] });
    expect(report.images[0]).toMatchObject({
      status: 'released',
      rollback: true,
      previous: newer.digest,
      message: `rollback: latest goes back from sha-d4d4d4d (${newer.digest}) to this older image`,
    });
    const markdown = renderReleaseMarkdown(report);
    expect(markdown.startsWith(`${RELEASE_MARKDOWN_MARKER}\n## Release of \`${FROM}\` as \`latest\``)).toBe(true);
    expect(markdown).toContain('🚀 RELEASED (rollback)');
    expect(markdown).toContain(`\`registry.test/4pass/api@${report.images[0]?.digest}\``);
    expect(renderReleaseText(report)).toMatch(/Result: RELEASED sha-c3c3c3c as latest: 1 image \(a rollback\)/);
  });

  it('needs a registry: no request is made without one', async () => {
    const { release, requests } = setup();
    const config = { ...releaseConfig(), registry: undefined };
    await expect(release({ config })).rejects.toBeInstanceOf(RegistrySettingsError);
    expect(requests).toEqual([]);
  });
});

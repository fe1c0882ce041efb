import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type KnownLayer } from '@4pass/builder/internal';
import { analyzeLayers } from '../../../packages/builder/src/inspect/analyze-layers.js';
import { readImageContents } from '../../../packages/builder/src/inspect/image-contents.js';
import { registryImageFacts } from '../../../packages/builder/src/inspect/registry-facts.js';
import { readRegistryImage, type RegistryImageSource } from '../../../packages/builder/src/inspect/registry-image.js';
import { tarOf } from './docker-save-fixtures.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SITE = 'opt/venv/lib/python3.11/site-packages';

/** An in-memory registry holding one image (two gzip layers) behind an index. */
async function fakeRegistry() {
  const base = await tarOf([{ name: 'usr/bin/python3.11', size: 5_000 }]);
  const app = await tarOf([
    { name: `${SITE}/six-1.17.0.dist-info/METADATA`, content: 'Name: six\nVersion: 1.17.0\n' },
    { name: `${SITE}/six-1.17.0.dist-info/RECORD`, content: 'six.py,,\nsix-1.17.0.dist-info/METADATA,,\n' },
    { name: `${SITE}/six.py`, size: 34_000 },
  ]);
  const layers = [base, app].map((t) => ({ tar: t, gz: gzipSync(t) }));
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l.tar)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ digest: sha(l.gz), size: l.gz.length })),
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      manifests: [
        { digest: 'sha256:' + '0'.repeat(64), platform: { os: 'linux', architecture: 'arm64' } },
        { digest: sha(manifest), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );
  const blobs = new Map([[sha(config), config], ...layers.map((l) => [sha(l.gz), l.gz] as const)]);
  const manifests = new Map([
    ['latest', index],
    [sha(manifest), manifest],
  ]);
  const opened: string[] = [];
  const source: RegistryImageSource = {
    getManifest: async (_name, ref) => {
      const body = manifests.get(ref);
      return body && { digest: sha(body), mediaType: 'application/json', body };
    },
    getBlob: async (_name, digest) => blobs.get(digest) ?? Buffer.alloc(0),
    openBlob: async (_name, digest) => {
      opened.push(digest);
      const blob = blobs.get(digest) ?? Buffer.alloc(0);
      return (async function* () {
        for (let i = 0; i < blob.length; i += 700) yield blob.subarray(i, i + 700);
      })();
    },
  };
  return {
    source,
    opened,
    manifestDigest: sha(manifest),
    configDigest: sha(config),
    diffIds: layers.map((l) => sha(l.tar)),
    gz: layers.map((l) => l.gz),
  };
}

describe('readRegistryImage', () => {
  it('reads an image through its index, listing every layer and keeping its metadata files', async () => {
    const r = await fakeRegistry();
    const image = await readRegistryImage(r.source, { name: '4pass/worker', reference: 'latest' });
    expect(image?.digest).toBe(r.manifestDigest);
    expect(image?.layers.map((l) => [l.diffId, l.compressedBytes, l.fetched])).toEqual([
      [r.diffIds[0], r.gz[0]?.length, true],
      [r.diffIds[1], r.gz[1]?.length, true],
    ]);
    const { tree } = analyzeLayers(image?.layers ?? []);
    const files = image?.files.resolve(tree, r.diffIds) ?? new Map();
    const contents = readImageContents(tree, (p) => files.get(p));
    expect(contents.python.map((d) => [d.name, d.version, d.sizeBytes])).toEqual([['six', '1.17.0', 34_000 + 26 + 41]]);
  });

  it('downloads only the layers it does not know', async () => {
    const r = await fakeRegistry();
    const known = new Map<string, KnownLayer>([
      [
        r.diffIds[0] as string,
        { entries: [{ path: '/usr/bin/python3.11', size: 5_000, type: 'file', mode: 0o755 }], files: new Map() },
      ],
    ]);
    const image = await readRegistryImage(r.source, { name: '4pass/worker', reference: 'latest', known });
    expect(image?.layers.map((l) => l.fetched)).toEqual([false, true]);
    expect(r.opened).toHaveLength(1);
  });

  it('gives undefined for a missing reference and names a missing platform', async () => {
    const r = await fakeRegistry();
    expect(await readRegistryImage(r.source, { name: 'x', reference: 'nope' })).toBeUndefined();
    await expect(
      readRegistryImage(r.source, {
        name: 'x',
        reference: 'latest',
        platform: { os: 'windows', architecture: 'amd64' },
      }),
    ).rejects.toThrow('x:latest has no windows/amd64 image');
  });
});

describe('registryImageFacts', () => {
  it('gives the facts of a registry image: sizes, layers, contents and listings to reuse', async () => {
    const r = await fakeRegistry();
    const facts = await registryImageFacts(r.source, {
      name: '4pass/worker',
      reference: 'latest',
      paths: ['/opt/venv'],
    });
    expect(facts?.imageId).toBe(r.configDigest); // the image's identity, as for a local image
    expect(facts?.digest).toBe(r.manifestDigest);
    expect(facts?.compressedSizeBytes).toBe((r.gz[0]?.length ?? 0) + (r.gz[1]?.length ?? 0));
    expect(facts?.sizeBytes).toBe(5_000 + 34_000 + 26 + 41);
    expect(facts?.paths).toEqual({ '/opt/venv': 34_000 + 26 + 41 });
    expect(facts?.contents?.python.map((d) => d.name)).toEqual(['six']);
    expect([...(facts?.knownLayers?.keys() ?? [])]).toEqual(r.diffIds);
    expect(await registryImageFacts(r.source, { name: '4pass/worker', reference: 'gone' })).toBeUndefined();
  });
});

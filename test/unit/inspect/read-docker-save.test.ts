import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ImageArchiveError, openLayerSizeCache } from '@4pass/builder/internal';
import { imageFactsFrom } from '../../../packages/builder/src/inspect/inspect-image.js';
import { GzipSizeEstimator, readDockerSave } from '../../../packages/builder/src/inspect/read-docker-save.js';
import { chunked, dockerSaveOf, tarOf } from './docker-save-fixtures.js';

const tinyTar = fileURLToPath(new URL('../../fixtures/images/tiny.tar', import.meta.url));

describe('readDockerSave on a real 20.10 docker-save archive', () => {
  it('lists every layer in manifest order, with diffIDs, sizes and history', async () => {
    const contents = await readDockerSave(createReadStream(tinyTar));
    expect(contents.manifest.RepoTags).toEqual(['4pass-fixture/tiny:1']);
    expect(contents.layers).toHaveLength(4);
    expect(contents.layers.map((l) => l.diffId)).toEqual(contents.config.rootfs?.diff_ids);
    expect(contents.layers.every((l) => l.compression === 'none' && l.archivePath.endsWith('/layer.tar'))).toBe(true);
    expect(contents.layers[1]?.entries.find((e) => e.path === '/app/data.txt')).toMatchObject({
      size: 27019,
      type: 'file',
    });
    expect(contents.layers[2]?.entries.find((e) => e.path === '/app/bin/run.sh')?.mode).toBe(0o755);

    const facts = imageFactsFrom('tiny', undefined, contents, contents.layers, ['/app', '/app/data.txt']);
    expect(facts.layers.map((l) => l.createdBy)).toEqual([
      'COPY app/msg.txt /app/msg.txt # buildkit',
      'COPY app/data-v1.txt /app/data.txt # buildkit',
      'COPY app/run.sh /app/bin/run.sh # buildkit',
      'COPY app/data-v2.txt /app/data.txt # buildkit',
    ]);
    expect(facts.history.filter((h) => h.emptyLayer).map((h) => h.createdBy)).toEqual([
      'LABEL org.opencontainers.image.title=4pass tiny fixture',
      'ENV APP_MODE=fixture',
      'USER 1000:1000',
      'CMD ["/app/bin/run.sh"]',
    ]);
    expect(facts.layers.map((l) => l.sizeBytes)).toEqual([21, 27019, 18, 10809]);
    expect(facts.waste.wastedBytes).toBe(27019);
    expect(facts.waste.efficiency).toBeCloseTo((21 + 18 + 10809) / (21 + 27019 + 18 + 10809), 6);
    expect(facts.layers[1]?.wastedBytes).toBe(27019);
    expect(facts.paths).toEqual({ '/app': 21 + 18 + 10809, '/app/data.txt': 10809 });
    expect(facts.config).toMatchObject({
      user: '1000:1000',
      labels: { 'org.opencontainers.image.title': '4pass tiny fixture' },
    });
    expect(facts.config.healthcheck).toBeUndefined();
    expect(facts.compressedSizeBytes).toBe(facts.layers.reduce((a, l) => a + l.compressedBytes, 0));
    // base64 text compresses to roughly 3/4 of its size; far below the tar size
    expect(facts.layers[1]?.compressedBytes).toBeGreaterThan(15_000);
    expect(facts.layers[1]?.compressedBytes).toBeLessThan(facts.layers[1]?.tarBytes ?? 0);
  });
});

describe('readDockerSave on synthetic archives', () => {
  const image = {
    layers: [
      [
        { name: 'etc/', type: 'directory' as const },
        { name: 'etc/os-release', content: 'ID=fixture\n'.repeat(50) },
      ],
      [{ name: 'etc/.wh.os-release' }, { name: 'opt/venv/lib/x.py', content: 'print(1)\n'.repeat(1000) }],
    ],
    metadataSteps: true,
    config: { User: 'app', Healthcheck: { Test: ['CMD', 'true'] } },
  };

  it.each<[string, { layout: 'docker20' | 'oci'; gzip?: boolean; indexOnly?: boolean }]>([
    ['docker20 plain', { layout: 'docker20' }],
    ['oci plain (Docker ≥ 25)', { layout: 'oci' }],
    ['oci gzip (containerd store)', { layout: 'oci', gzip: true }],
    ['oci gzip, nested indexes, no manifest.json', { layout: 'oci', gzip: true, indexOnly: true }],
  ])('%s: same listing, diffIDs from the uncompressed tars, history mapped past empty layers', async (_, variant) => {
    const { archive, diffIds, layerTars } = await dockerSaveOf({ ...image, ...variant });
    const contents = await readDockerSave(chunked(archive, 777));
    expect(contents.layers.map((l) => l.diffId)).toEqual(diffIds);
    expect(contents.layers.map((l) => l.tarBytes)).toEqual(layerTars.map((t) => t.length));
    expect(contents.layers.map((l) => l.compression)).toEqual(variant.gzip ? ['gzip', 'gzip'] : ['none', 'none']);
    const facts = imageFactsFrom('x', undefined, contents, contents.layers, ['/opt/venv']);
    expect(facts.layers.map((l) => l.createdBy)).toEqual(['COPY layer0 / # buildkit', 'COPY layer1 / # buildkit']);
    expect(facts.history.map((h) => h.layer)).toEqual([undefined, 0, undefined, 1, undefined]);
    expect(facts.tree.has('/etc/os-release')).toBe(false);
    expect(facts.waste.wastedBytes).toBe(550);
    expect(facts.paths['/opt/venv']).toBe(9000);
    expect(facts.config.healthcheck).toEqual(['CMD', 'true']);
    expect(facts.config.user).toBe('app');
  });

  it('gives one image the same identity and figures in every layout and compression', async () => {
    const figures = async (variant: { layout: 'docker20' | 'oci'; gzip?: boolean; indexOnly?: boolean }) => {
      const contents = await readDockerSave(chunked((await dockerSaveOf({ ...image, ...variant })).archive, 777));
      const facts = imageFactsFrom('x', undefined, contents, contents.layers, ['/opt/venv']);
      const { imageId, sizeBytes, compressedSizeBytes, paths, waste } = facts;
      return {
        imageId,
        sizeBytes,
        compressedSizeBytes,
        paths,
        waste,
        layers: facts.layers.map((l) => l.compressedBytes),
      };
    };
    const classic = await figures({ layout: 'docker20' });
    expect(classic.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(classic.sizeBytes).toBe(550 + 9000);
    expect(await figures({ layout: 'oci' })).toEqual(classic);
    expect(await figures({ layout: 'oci', gzip: true })).toEqual(classic);
    expect(await figures({ layout: 'oci', gzip: true, indexOnly: true })).toEqual(classic);
  });

  it('estimates the gzip size of plain layers within 1% of a single gzip stream', async () => {
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join(''));
    const layer = await tarOf([{ name: 'big.txt', content: text }]);
    const est = new GzipSizeEstimator();
    for await (const c of chunked(layer, 65_536)) {
      est.push(c);
      await est.backpressure();
    }
    const estimate = await est.finish();
    const real = gzipSync(layer).length;
    expect(Math.abs(estimate - real) / real).toBeLessThan(0.01);
  });

  it('uses and fills the layer size cache', async () => {
    const { archive } = await dockerSaveOf(image);
    const cache = new Map<string, number>();
    const first = await readDockerSave(chunked(archive), { cache });
    expect(first.layers.every((l) => !l.compressedFromCache)).toBe(true);
    expect(cache.get(first.layers[0]?.diffId ?? '')).toBe(first.layers[0]?.compressedBytes);
    cache.set(first.layers[0]?.archivePath ?? '', 12345);
    const second = await readDockerSave(chunked(archive), { cache });
    expect(second.layers[0]).toMatchObject({ compressedFromCache: true, compressedBytes: 12345 });
  });

  it('fails clearly when manifest.json is missing or a layer is absent', async () => {
    const noManifest = await tarOf([{ name: 'abc.json', content: '{}' }]);
    await expect(readDockerSave(chunked(noManifest))).rejects.toThrow(ImageArchiveError);
    await expect(readDockerSave(chunked(noManifest))).rejects.toThrow(/no manifest\.json or index\.json/);
    const missingLayer = await tarOf([
      { name: 'c.json', content: '{}' },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['x/layer.tar'] }]) },
    ]);
    await expect(readDockerSave(chunked(missingLayer))).rejects.toThrow(
      /layer x\/layer\.tar named by manifest\.json is missing/,
    );
  });

  it('verifyDiffIds hashes each layer and checks it against the config', async () => {
    const real = await readDockerSave(createReadStream(tinyTar), { verifyDiffIds: true });
    expect(real.layers.map((l) => l.diffId)).toEqual(real.config.rootfs?.diff_ids);
    const layer = await tarOf([{ name: 'a', content: 'a' }]);
    const lying = await tarOf([
      { name: 'l/layer.tar', content: layer },
      {
        name: 'c.json',
        content: JSON.stringify({ rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } }),
      },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l/layer.tar'] }]) },
    ]);
    await expect(readDockerSave(chunked(lying), { verifyDiffIds: true })).rejects.toThrow(
      /has digest sha256:[0-9a-f]{64}, but the image config says sha256:0{64}/,
    );
    expect((await readDockerSave(chunked(lying))).layers[0]?.diffId).toBe('sha256:' + '0'.repeat(64));
  });

  it('rejects a stream that is not a tar', async () => {
    await expect(readDockerSave(chunked(Buffer.from('this is not a tar archive at all, '.repeat(40))))).rejects.toThrow(
      ImageArchiveError,
    );
  });
});

describe('openLayerSizeCache', () => {
  it('persists sizes between runs and survives a corrupt file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lsc-'));
    try {
      const file = join(dir, 'sub', 'layer-sizes.json');
      const a = await openLayerSizeCache(file);
      const { archive } = await dockerSaveOf({ layers: [[{ name: 'a.txt', content: 'x'.repeat(5000) }]] });
      const first = await readDockerSave(chunked(archive), { cache: a });
      await a.save();
      const b = await openLayerSizeCache(file);
      expect(b.size).toBe(2);
      const second = await readDockerSave(chunked(archive), { cache: b });
      expect(second.layers[0]).toMatchObject({
        compressedFromCache: true,
        compressedBytes: first.layers[0]?.compressedBytes,
      });
      await writeFile(file, '{ not json');
      expect((await openLayerSizeCache(file)).size).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

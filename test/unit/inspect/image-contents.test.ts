import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { analyzeLayers } from '../../../packages/builder/src/inspect/analyze-layers.js';
import { parseDpkgStatus, resolveDirectoryLinks } from '../../../packages/builder/src/inspect/debian-packages.js';
import { importNameOwners, readImageContents } from '../../../packages/builder/src/inspect/image-contents.js';
import {
  createFileCollector,
  wantsPackageMetadata,
} from '../../../packages/builder/src/inspect/layer-file-contents.js';
import { parseMetadata, parseRecord } from '../../../packages/builder/src/inspect/python-distributions.js';
import { readDockerSave } from '../../../packages/builder/src/inspect/read-docker-save.js';
import { chunked, dockerSaveOf, type FixtureEntry } from './docker-save-fixtures.js';

const fx = (name: string) => readFile(new URL(`../../fixtures/packages/${name}`, import.meta.url));
const SITE = 'opt/venv/lib/python3.11/site-packages';

async function baseLayer(): Promise<FixtureEntry[]> {
  return [
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13', size: 121_280 },
    { name: 'usr/lib/x86_64-linux-gnu/libz.so.1', type: 'symlink', linkname: 'libz.so.1.2.13' },
    { name: 'usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4', size: 74_688 },
    { name: 'usr/share/doc/zlib1g/copyright', size: 1_000 },
    { name: 'var/lib/dpkg/status', content: await fx('dpkg/status') },
    { name: 'var/lib/dpkg/info/zlib1g:amd64.list', content: await fx('dpkg/info/zlib1g:amd64.list') },
    { name: 'var/lib/dpkg/info/libbz2-1.0:amd64.list', content: await fx('dpkg/info/libbz2-1.0:amd64.list') },
    { name: 'usr/lib/python3.11/os.py', size: 40_000 },
    { name: 'usr/lib/python3.11/json/__init__.py', size: 14_000 },
    { name: 'usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so', size: 60_000 },
  ];
}

async function venvLayer(): Promise<FixtureEntry[]> {
  const meta = async (dist: string, files: string[]) =>
    Promise.all(files.map(async (f) => ({ name: `${SITE}/${dist}/${f}`, content: await fx(`${dist}/${f}`) })));
  return [
    ...(await meta('six-1.17.0.dist-info', ['METADATA', 'RECORD', 'top_level.txt'])),
    { name: `${SITE}/six.pyc`, size: 30_000 }, // sourceless: RECORD names six.py
    ...(await meta('botocore-1.43.107.dist-info', ['RECORD', 'top_level.txt'])), // no METADATA: name from the dir
    { name: `${SITE}/botocore/__init__.pyc`, size: 9_000 },
    { name: `${SITE}/botocore/data/sqs/2012-11-05/service-2.json.gz`, size: 24_462 },
    { name: `${SITE}/botocore/data/ecs/2014-11-13/service-2.json.gz`, size: 144_340 },
    { name: `${SITE}/botocore/data/s3/2006-03-01/service-2.json.gz`, size: 500_000 }, // not in RECORD
    { name: `${SITE}/unowned/thing.py`, size: 10 },
  ];
}

async function pydanticCoreLayer(): Promise<FixtureEntry[]> {
  const dist = 'pydantic_core-2.46.5.dist-info';
  return [
    { name: `${SITE}/${dist}/METADATA`, content: await fx(`${dist}/METADATA`) },
    { name: `${SITE}/${dist}/RECORD`, content: await fx(`${dist}/RECORD`) },
    { name: `${SITE}/${dist}/sboms/pydantic-core.cyclonedx.json`, size: 125_376 },
    { name: `${SITE}/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so`, size: 467_142 },
    { name: `${SITE}/pydantic_core/__init__.py`, size: 5_115 },
    { name: `${SITE}/pydantic_core/__pycache__/__init__.cpython-311.pyc`, size: 6_000 },
    { name: `${SITE}/pydantic_core/core_schema.py`, size: 155_574 }, // no bytecode
  ];
}

async function readFixture(layers: FixtureEntry[][]) {
  const { archive } = await dockerSaveOf({ layers, gzip: true, layout: 'oci' });
  const files = createFileCollector();
  const saved = await readDockerSave(chunked(archive, 4096), { files });
  const { tree } = analyzeLayers(saved.layers);
  const contents = files.resolve(
    tree,
    saved.layers.map((l) => l.archivePath),
  );
  return { tree, contents, read: (p: string) => contents.get(p) };
}

describe('readImageContents', () => {
  it('finds Python distributions under a venv, sized from the final tree, with the layer that brought each', async () => {
    const { tree, read } = await readFixture([await baseLayer(), await venvLayer(), await pydanticCoreLayer()]);
    const c = readImageContents(tree, read);
    expect(c.python.map((d) => [d.name, d.version])).toEqual([
      ['pydantic_core', '2.46.5'],
      ['botocore', '1.43.107'],
      ['six', '1.17.0'],
    ]);
    const [core, botocore, six] = c.python;
    expect(botocore).toMatchObject({
      location: `/${SITE}`,
      layer: 1,
      importNames: ['botocore'],
      // RECORD, top_level.txt, __init__.pyc (source in RECORD) and all three models (s3's only through its directory).
      sizeBytes: 10_276 + 9 + 9_000 + 24_462 + 144_340 + 500_000,
    });
    expect(botocore?.topPaths[0]).toEqual({ path: 'botocore/data', sizeBytes: 668_802 });
    expect(core).toMatchObject({ layer: 2, importNames: ['pydantic_core'], fileCount: 7 });
    expect(core?.topPaths.map((p) => p.path)).toEqual([
      'pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so',
      'pydantic_core/core_schema.py',
      'pydantic_core-2.46.5.dist-info/sboms',
      'pydantic_core-2.46.5.dist-info/METADATA',
      'pydantic_core/__pycache__',
    ]);
    expect(six).toMatchObject({ sizeBytes: 1_658 + 611 + 4 + 30_000, importNames: ['six'] });
    expect(c.botocoreServices).toBe(3);
    expect(c.sourcesWithoutBytecode).toBe(2); // core_schema.py and unowned/thing.py
    expect(c.pythonStdlib).toEqual(['_json', 'json', 'os']);
    expect(importNameOwners(c.python).get('pydantic_core')).toBe('pydantic_core');
  });

  it('sizes Debian packages from their dpkg lists through the /lib symlink, else from Installed-Size', async () => {
    const { tree, read } = await readFixture([await baseLayer()]);
    const { debian } = readImageContents(tree, read);
    expect(debian).toEqual([
      {
        name: 'tzdata',
        version: '2026b-0+deb12u1',
        architecture: 'all',
        sizeBytes: 2573 * 1024,
        sizeFrom: 'installed-size',
        installedSizeBytes: 2573 * 1024,
        fileCount: 0,
        layer: -1,
      },
      expect.objectContaining({
        name: 'zlib1g',
        version: '1:1.2.13.dfsg-1',
        sizeBytes: 122_280,
        fileCount: 2,
        layer: 0,
      }),
      expect.objectContaining({ name: 'libbz2-1.0', sizeBytes: 74_688, sizeFrom: 'files', fileCount: 1 }),
    ]);
  });

  it('reads the metadata visible in the final tree: a later RECORD wins, deleted distributions are gone', async () => {
    const venv = await venvLayer();
    const { tree, read } = await readFixture([
      venv,
      [
        { name: `${SITE}/.wh.six-1.17.0.dist-info` },
        { name: `${SITE}/.wh.six.pyc` },
        { name: `${SITE}/botocore-1.43.107.dist-info/RECORD`, content: 'botocore/__init__.py,,\n' },
      ],
    ]);
    const c = readImageContents(tree, read);
    expect(c.python.map((d) => d.name)).toEqual(['botocore']);
    expect(read(`/${SITE}/botocore-1.43.107.dist-info/RECORD`)?.toString()).toBe('botocore/__init__.py,,\n');
  });

  it("lists each layer's biggest paths, ancestors before children, bounded", async () => {
    const { tree, read } = await readFixture([await baseLayer(), await venvLayer(), await pydanticCoreLayer()]);
    const { paths } = readImageContents(tree, read, { maxPaths: 12 });
    expect(paths).toHaveLength(12);
    expect(paths[0]).toEqual({ layer: 2, path: '/opt', sizeBytes: 766_891 });
    const keys = new Set(paths.map((p) => `${p.layer}:${p.path}`));
    for (const p of paths) {
      const parent = p.path.slice(0, p.path.lastIndexOf('/'));
      if (parent) expect(keys.has(`${p.layer}:${parent}`), p.path).toBe(true);
    }
  });
});

describe('package metadata parsers', () => {
  it('parse METADATA headers, quoted RECORD paths and dpkg paragraphs', () => {
    expect(parseMetadata('Metadata-Version: 2.1\nName: My-Pkg\nVersion: 1.0\n\nName: not this\n')).toEqual({
      name: 'My-Pkg',
      version: '1.0',
    });
    expect(parseMetadata('Summary: x\n')).toBeUndefined();
    expect(
      parseRecord('"a,b.py",sha256=x,1\nc/d.py,,\n../../../bin/tool,,\n', '/v/lib/python3.11/site-packages'),
    ).toEqual(['/v/lib/python3.11/site-packages/a,b.py', '/v/lib/python3.11/site-packages/c/d.py', '/v/bin/tool']);
    expect(
      parseDpkgStatus('Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: b\nVersion: 2\n'),
    ).toEqual([{ name: 'b', version: '2' }]);
  });

  it('want only dist-info metadata and dpkg data', () => {
    expect(wantsPackageMetadata('/x/site-packages/a-1.dist-info/RECORD', 10)).toBe(true);
    expect(wantsPackageMetadata('/var/lib/dpkg/info/zlib1g:amd64.list', 10)).toBe(true);
    expect(wantsPackageMetadata('/var/lib/dpkg/status.d/base', 10)).toBe(true);
    expect(wantsPackageMetadata('/x/site-packages/a-1.dist-info/LICENSE', 10)).toBe(false);
    expect(wantsPackageMetadata('/var/lib/dpkg/info/zlib1g:amd64.md5sums', 10)).toBe(false);
  });

  it('resolve symlinked directories, relative and absolute, without looping', () => {
    const tree = new Map([
      ['/lib', { path: '/lib', size: 0, type: 'symlink' as const, mode: 0o777, layer: 0, linkname: 'usr/lib' }],
      ['/a', { path: '/a', size: 0, type: 'symlink' as const, mode: 0o777, layer: 0, linkname: '/b' }],
      ['/b', { path: '/b', size: 0, type: 'symlink' as const, mode: 0o777, layer: 0, linkname: 'a' }],
    ]);
    expect(resolveDirectoryLinks('/lib/x/y.so', tree)).toBe('/usr/lib/x/y.so');
    expect(resolveDirectoryLinks('/lib', tree)).toBe('/lib');
    expect(resolveDirectoryLinks('/a/f', tree)).toMatch(/^\/[ab]\/f$/);
  });
});

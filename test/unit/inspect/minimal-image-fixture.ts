import { readFile } from 'node:fs/promises';
import { analyzeLayers } from '../../../packages/builder/src/inspect/analyze-layers.js';
import { readImageContents } from '../../../packages/builder/src/inspect/image-contents.js';
import { createFileCollector } from '../../../packages/builder/src/inspect/layer-file-contents.js';
import { readDockerSave } from '../../../packages/builder/src/inspect/read-docker-save.js';
import { chunked, dockerSaveOf, type FixtureEntry } from './docker-save-fixtures.js';

/**
 * A minimal runtime as our closure writes it, FROM scratch: no /var/lib/dpkg/status, one `status.d` entry and its
 * `.md5sums` per Debian package that owns a kept file, the packages' copyright files, os-release, a venv with two
 * distributions (one with an extension module) and the application.
 */

const fx = (name: string) => readFile(new URL(`../../fixtures/packages/${name}`, import.meta.url));
const SITE = 'opt/venv/lib/python3.11/site-packages';
/** An ELF header's first bytes, then padding. */
export const elf = (size = 64) => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(size)]);
export const APP_MAIN = 'from worker.loop import run\nrun()\n';

const ZLIB_STATUS = `Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
`;

const PYTHON_STATUS = `Package: python3.11-minimal
Status: install ok installed
Architecture: amd64
Source: python3.11
Version: 3.11.2-6+deb12u8
Description: Minimal subset of the Python language (version 3.11)
`;

const ZLIB_COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zlib

Files: *
Copyright: 1995-2013 Jean-loup Gailly and Mark Adler
License: Zlib

Files: debian/*
License: GPL-2+ or Artistic
 This is free software.
`;

function systemLayer(): FixtureEntry[] {
  return [
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13', content: elf(1000) },
    { name: 'usr/lib/x86_64-linux-gnu/libz.so.1', type: 'symlink', linkname: 'libz.so.1.2.13' },
    { name: 'usr/bin/python3.11', content: elf(5000) },
    { name: 'usr/bin/tool', content: elf(100), mode: 0o755 }, // copied in: no package owns it
    { name: 'usr/lib/python3.11/os.pyc', size: 300 },
    {
      name: 'usr/lib/os-release',
      content: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    },
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'etc/debian_version', content: '12.15\n' },
    { name: 'var/lib/dpkg/status.d/zlib1g', content: ZLIB_STATUS },
    {
      name: 'var/lib/dpkg/status.d/zlib1g.md5sums',
      content: '0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libz.so.1.2.13\n',
    },
    { name: 'var/lib/dpkg/status.d/python3.11-minimal', content: PYTHON_STATUS },
    {
      name: 'var/lib/dpkg/status.d/python3.11-minimal.md5sums',
      content: 'fedcba9876543210fedcba9876543210  usr/bin/python3.11\n',
    },
    { name: 'usr/share/doc/zlib1g/copyright', content: ZLIB_COPYRIGHT },
  ];
}

async function venvAndApp(): Promise<FixtureEntry[]> {
  const meta = async (dist: string, files: string[]) =>
    Promise.all(files.map(async (f) => ({ name: `${SITE}/${dist}/${f}`, content: await fx(`${dist}/${f}`) })));
  return [
    ...(await meta('six-1.17.0.dist-info', ['METADATA', 'RECORD', 'top_level.txt'])),
    { name: `${SITE}/six.pyc`, size: 3_000 },
    ...(await meta('pydantic_core-2.46.5.dist-info', ['METADATA', 'RECORD'])),
    { name: `${SITE}/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so`, content: elf(4000) },
    { name: 'app/worker/__main__.py', content: APP_MAIN },
    { name: 'app/worker/__pycache__/__main__.cpython-311.pyc', content: 'bytecode' },
  ];
}

/** The fixture read as `inspectImage` reads an image: contents, with the files under /app hashed. */
export async function minimalImageContents() {
  const { archive } = await dockerSaveOf({ layers: [systemLayer(), await venvAndApp()], gzip: true, layout: 'oci' });
  const files = createFileCollector({ hashPaths: ['/app'] });
  const saved = await readDockerSave(chunked(archive, 4096), { files });
  const { tree } = analyzeLayers(saved.layers);
  const keys = saved.layers.map((l) => l.archivePath);
  const kept = files.resolve(tree, keys);
  const contents = readImageContents(tree, (p) => kept.get(p), { hashes: files.resolveHashes(tree, keys) });
  return { tree, contents, configDigest: saved.configDigest };
}

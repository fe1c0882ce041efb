import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { copyrightLicenses } from '../../../packages/builder/src/inspect/debian-copyright.js';
import { parseMd5sums } from '../../../packages/builder/src/inspect/debian-packages.js';
import { wantsPackageMetadata } from '../../../packages/builder/src/inspect/layer-file-contents.js';
import { parseOsRelease } from '../../../packages/builder/src/inspect/os-release.js';
import { parseMetadata } from '../../../packages/builder/src/inspect/python-distributions.js';
import { APP_MAIN, minimalImageContents } from './minimal-image-fixture.js';

describe('the contents of a minimal image, as scanners see it', () => {
  it('reads Debian packages from status.d, their files from the .md5sums beside each, licenses from copyright', async () => {
    const { contents } = await minimalImageContents();
    expect(contents.debian).toEqual([
      {
        name: 'python3.11-minimal',
        version: '3.11.2-6+deb12u8',
        architecture: 'amd64',
        source: 'python3.11',
        sizeBytes: 5007,
        sizeFrom: 'files',
        fileCount: 1,
        layer: 0,
      },
      {
        name: 'zlib1g',
        version: '1:1.2.13.dfsg-1',
        architecture: 'amd64',
        source: 'zlib',
        // Debian's short names as written; `GPL-2+ or Artistic` gives both.
        licenses: ['Zlib', 'GPL-2+', 'Artistic'],
        // `lib/…` in the md5sums, found through the /lib → usr/lib link.
        sizeBytes: 1007,
        sizeFrom: 'files',
        installedSizeBytes: 168 * 1024,
        fileCount: 1,
        layer: 0,
      },
    ]);
  });

  it('knows the distribution from os-release (through its symlink) and the point release from debian_version', async () => {
    const { contents } = await minimalImageContents();
    expect(contents.os).toEqual({
      id: 'debian',
      versionId: '12',
      version: '12.15',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
  });

  it('finds every ELF file by its magic, and the ones no visible package owns', async () => {
    const { contents, tree } = await minimalImageContents();
    expect([...tree.values()].filter((e) => e.elf).map((e) => e.path)).toEqual([
      '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
      '/usr/bin/python3.11',
      '/usr/bin/tool',
      '/opt/venv/lib/python3.11/site-packages/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so',
    ]);
    // libz through zlib1g's md5sums, python3.11 through python3.11-minimal's, the extension module through RECORD.
    expect(contents.elf).toEqual({ files: 4, unowned: ['/usr/bin/tool'] });
  });

  it("hashes the application's files as the layers stream past, keeping none of their bytes", async () => {
    const { contents } = await minimalImageContents();
    const sha256 = createHash('sha256').update(APP_MAIN).digest('hex');
    expect(contents.files).toEqual([
      { path: '/app/worker/__main__.py', sha256, sizeBytes: APP_MAIN.length, layer: 1 },
      {
        path: '/app/worker/__pycache__/__main__.cpython-311.pyc',
        sha256: createHash('sha256').update('bytecode').digest('hex'),
        sizeBytes: 8,
        layer: 1,
      },
    ]);
  });

  it('reads Python licenses: License-Expression, else a one-line License, else the classifiers', async () => {
    const { contents } = await minimalImageContents();
    const byName = new Map(contents.python.map((d) => [d.name, d]));
    expect(byName.get('pydantic_core')).toMatchObject({ licenseExpression: 'MIT' });
    expect(byName.get('six')).toMatchObject({ licenses: ['MIT'] });
    expect(byName.get('six')?.licenseExpression).toBeUndefined();
  });
});

describe('scanner metadata parsers', () => {
  it('read METADATA licenses, skipping license texts in the License field', () => {
    const head = (fields: string) => `Metadata-Version: 2.1\nName: p\nVersion: 1\n${fields}\n\nbody\n`;
    expect(parseMetadata(head('License-Expression: Apache-2.0 OR MIT\nLicense: x'))).toMatchObject({
      licenseExpression: 'Apache-2.0 OR MIT',
    });
    expect(parseMetadata(head('License: BSD 3-Clause'))).toMatchObject({ licenses: ['BSD 3-Clause'] });
    const text = 'License: Copyright (c) 2010\n        Permission is hereby granted\n';
    expect(parseMetadata(head(`${text}Classifier: License :: OSI Approved :: MIT License`))).toMatchObject({
      licenses: ['MIT License'],
    });
    expect(parseMetadata(head('License: UNKNOWN'))?.licenses).toBeUndefined();
  });

  it('read copyright files: DEP-5 License fields, else common-licenses references', () => {
    expect(copyrightLicenses('Files: *\nLicense: BSD-3-clause (see below)\n\nLicense: BSD-3-clause\n text\n')).toEqual([
      'BSD-3-clause',
    ]);
    expect(copyrightLicenses('This is free software, see /usr/share/common-licenses/GPL-2 for it.\n')).toEqual([
      'GPL-2',
    ]);
    expect(copyrightLicenses('no machine-readable license here\n')).toEqual([]);
  });

  it('read md5sums and os-release', () => {
    expect(parseMd5sums('d41d8cd98f00b204e9800998ecf8427e  usr/lib/a b.so\n\nbroken\n')).toEqual(['/usr/lib/a b.so']);
    expect([...parseOsRelease('ID=debian\nNAME="Debian \\"x\\""\n# comment\nVERSION_ID=\'12\'\n')]).toEqual([
      ['ID', 'debian'],
      ['NAME', 'Debian "x"'],
      ['VERSION_ID', '12'],
    ]);
  });

  it('keep copyright files and os-release, not the rest of /usr/share/doc', () => {
    expect(wantsPackageMetadata('/usr/share/doc/zlib1g/copyright', 10)).toBe(true);
    expect(wantsPackageMetadata('/usr/share/doc/zlib1g/changelog.gz', 10)).toBe(false);
    expect(wantsPackageMetadata('/usr/share/doc/a/examples/debian/copyright', 10)).toBe(false);
    expect(wantsPackageMetadata('/etc/os-release', 10)).toBe(true);
    expect(wantsPackageMetadata('/etc/debian_version', 10)).toBe(true);
    expect(wantsPackageMetadata('/var/lib/dpkg/status.d/zlib1g.md5sums', 10)).toBe(true);
  });
});

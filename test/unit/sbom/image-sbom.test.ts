import { imageSbom, SbomValidationError, validateSbom, type CycloneDxBom } from '@4pass/builder/internal';
import { describe, expect, it } from 'vitest';
import { debianPurl, pythonPurl, sbomReport } from '../../../packages/builder/src/sbom/image-sbom.js';
import { minimalImageContents } from '../inspect/minimal-image-fixture.js';

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;

async function fixtureSbom(): Promise<CycloneDxBom> {
  const { contents } = await minimalImageContents();
  return imageSbom(
    { imageId: IMAGE_ID, ref: '4pass/worker:sha-abc1234', contents },
    {
      name: 'worker',
      timestamp: new Date('2025-05-01T00:00:00Z'),
      serialNumber: `urn:uuid:${'1'.repeat(8)}-1111-4111-8111-${'1'.repeat(12)}`,
    },
  );
}

describe('imageSbom (CycloneDX 1.6 from the gate inventory)', () => {
  it('validates against the CycloneDX 1.6 JSON schema (strict)', async () => {
    await expect(validateSbom(await fixtureSbom())).resolves.toBeUndefined();
  });

  it('lists the distribution, every Debian package and Python distribution with purls, and the app files', async () => {
    const bom = await fixtureSbom();
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 });
    expect(bom.metadata).toMatchObject({
      timestamp: '2025-05-01T00:00:00.000Z',
      component: {
        type: 'container',
        name: 'worker',
        'bom-ref': IMAGE_ID,
        hashes: [{ alg: 'SHA-256', content: 'c'.repeat(64) }],
        properties: expect.arrayContaining([{ name: '4pass:image:id', value: IMAGE_ID }]),
      },
    });
    const byName = new Map((bom.components ?? []).map((c) => [c.name, c]));
    expect(byName.get('debian')).toMatchObject({ type: 'operating-system', version: '12.15' });
    expect(byName.get('zlib1g')).toMatchObject({
      type: 'library',
      version: '1:1.2.13.dfsg-1',
      // As trivy writes it: epoch as a qualifier, distro = <id>-<point release>.
      purl: 'pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.15&epoch=1',
      // SPDX ids where the name is one, Debian's short names otherwise (the serializer sorts them).
      licenses: [{ license: { name: 'Artistic' } }, { license: { name: 'GPL-2+' } }, { license: { id: 'Zlib' } }],
      properties: [{ name: '4pass:debian:source', value: 'zlib' }],
    });
    expect(byName.get('pydantic_core')).toMatchObject({
      purl: 'pkg:pypi/pydantic-core@2.46.5',
      licenses: [{ expression: 'MIT' }],
    });
    expect(byName.get('six')).toMatchObject({ purl: 'pkg:pypi/six@1.17.0', licenses: [{ license: { id: 'MIT' } }] });
    expect(byName.get('/app/worker/__main__.py')).toMatchObject({
      type: 'file',
      hashes: [{ alg: 'SHA-256', content: expect.stringMatching(/^[0-9a-f]{64}$/) }],
    });
    expect(sbomReport(bom)).toEqual({
      format: 'CycloneDX',
      specVersion: '1.6',
      serialNumber: bom.serialNumber,
      components: 7,
      debian: 2,
      python: 2,
      files: 2,
    });
  });

  it('writes purls the way scanners do', () => {
    expect(debianPurl({ name: 'libssl3', version: '3.0.20-1~deb12u2', architecture: 'amd64' })).toBe(
      'pkg:deb/debian/libssl3@3.0.20-1~deb12u2?arch=amd64',
    );
    expect(
      debianPurl(
        { name: 'tzdata', version: '2026b-0+deb12u1', architecture: 'all' },
        { id: 'debian', version: '12.15' },
      ),
    ).toBe('pkg:deb/debian/tzdata@2026b-0+deb12u1?arch=all&distro=debian-12.15');
    expect(pythonPurl({ name: 'Typing_Extensions', version: '4.16.0' })).toBe('pkg:pypi/typing-extensions@4.16.0');
  });

  it('gives each document its own serial number, and one bom-ref per component', async () => {
    const { contents } = await minimalImageContents();
    const twice = { ...contents, python: [...contents.python, ...contents.python] };
    const a = imageSbom({ imageId: IMAGE_ID, ref: 'r', contents: twice }, { name: 'worker' });
    const b = imageSbom({ imageId: IMAGE_ID, ref: 'r', contents }, { name: 'worker' });
    expect(a.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    const refs = (a.components ?? []).map((c) => c['bom-ref']);
    expect(new Set(refs).size).toBe(refs.length);
    await expect(validateSbom(a)).resolves.toBeUndefined();
  });

  it('refuses a document the schema does not accept, naming where', async () => {
    const bom = await fixtureSbom();
    const broken = { ...bom, components: [{ ...bom.components![0]!, type: 'gadget' }] } as CycloneDxBom;
    const error = await validateSbom(broken, 'worker').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SbomValidationError);
    expect(error).toMatchObject({ name: 'SbomValidationError', subject: 'worker' });
    expect((error as SbomValidationError).problems.join('\n')).toMatch(/\/components\/0\/type/);
  });
});

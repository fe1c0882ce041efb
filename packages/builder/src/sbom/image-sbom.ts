import { Enums, Models, Serialize, SPDX, Spec } from '@cyclonedx/cyclonedx-library';
import { randomUUID } from 'node:crypto';
import { PackageURL } from 'packageurl-js';
import type { DebianPackage } from '../inspect/debian-packages.js';
import type { HashedFile, ImageContents } from '../inspect/image-contents.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import type { OsRelease } from '../inspect/os-release.js';
import type { PythonDistribution } from '../inspect/python-distributions.js';
import type { SbomReport } from '../report/gate-report.js';

/**
 * An image's software bill of materials, CycloneDX 1.6 JSON, from the gate's own inventory (`ImageFacts.contents`):
 * the distribution (`operating-system`), every Debian package (`pkg:deb` URLs the way scanners write them: epoch as
 * a qualifier, `distro=debian-<point release>`), every Python distribution (`pkg:pypi`, PEP 503 names), licenses
 * where the image says them (copyright files, METADATA), and the application's own files with their SHA-256
 * (`sbom.files` of the image config). Built with the CycloneDX library's model and serializer. Pure.
 */

/** A CycloneDX component as JSON (the fields 4pass writes; the specification defines the rest). */
export interface CycloneDxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  hashes?: { alg: string; content: string }[];
  licenses?: ({ license: { id?: string; name?: string } } | { expression: string })[];
  properties?: { name: string; value?: string }[];
  [key: string]: unknown;
}

/** A CycloneDX 1.6 document as JSON. */
export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber: string;
  version: number;
  metadata: { timestamp?: string; component?: CycloneDxComponent; [key: string]: unknown };
  components?: CycloneDxComponent[];
  [key: string]: unknown;
}

/** What an SBOM is made from: an inspected image with its contents. */
export type SbomFacts = Pick<ImageFacts, 'imageId' | 'ref' | 'created'> & { contents: ImageContents };

export interface ImageSbomOptions {
  /** The image's name (the config's `name`): the document's subject. */
  name: string;
  /** Default: now. */
  timestamp?: Date;
  /** `urn:uuid:…`; default a random one (CycloneDX: every document gets its own). */
  serialNumber?: string;
}

/** Property names of this tool's own fields. */
export const SBOM_PROPERTIES = {
  imageId: '4pass:image:id',
  imageRef: '4pass:image:ref',
  debianSource: '4pass:debian:source',
  pythonLocation: '4pass:python:location',
} as const;

const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));

/** The image's CycloneDX 1.6 document (validate it with `validateSbom`). */
export function imageSbom(facts: SbomFacts, options: ImageSbomOptions): CycloneDxBom {
  const bom = new Models.Bom();
  bom.serialNumber = options.serialNumber ?? `urn:uuid:${randomUUID()}`;
  bom.metadata.timestamp = options.timestamp ?? new Date();
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, '@4pass/builder'));
  bom.metadata.component = imageComponent(facts, options.name);
  const { os } = facts.contents;
  if (os) bom.components.add(osComponent(os));
  const refs = new Set<string>();
  for (const pkg of facts.contents.debian) bom.components.add(debianComponent(pkg, os, refs));
  for (const dist of facts.contents.python) bom.components.add(pythonComponent(dist, refs));
  for (const file of facts.contents.files ?? []) bom.components.add(fileComponent(file));
  return JSON.parse(serializer.serialize(bom, { sortLists: true })) as CycloneDxBom;
}

function imageComponent(facts: SbomFacts, name: string): Models.Component {
  const component = new Models.Component(Enums.ComponentType.Container, name, {
    bomRef: facts.imageId,
    version: facts.imageId,
  });
  const hex = /^sha256:([a-f0-9]{64})$/.exec(facts.imageId)?.[1];
  // The image id is the SHA-256 of the image's config.
  if (hex) component.hashes.set(Enums.HashAlgorithm['SHA-256'], hex);
  component.properties.add(new Models.Property(SBOM_PROPERTIES.imageId, facts.imageId));
  component.properties.add(new Models.Property(SBOM_PROPERTIES.imageRef, facts.ref));
  return component;
}

function osComponent(os: OsRelease): Models.Component {
  return new Models.Component(Enums.ComponentType.OperatingSystem, os.id, {
    bomRef: `os:${os.id}${os.version ? `@${os.version}` : ''}`,
    ...(os.version && { version: os.version }),
    ...(os.prettyName && { description: os.prettyName }),
  });
}

/** A bom-ref not used yet: `ref`, else `ref#2`, `ref#3`… (the same package in two places). */
function uniqueRef(ref: string, refs: Set<string>): string {
  let unique = ref;
  for (let n = 2; refs.has(unique); n++) unique = `${ref}#${n}`;
  refs.add(unique);
  return unique;
}

/**
 * `pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.15&epoch=1` — as trivy and syft write them, so a
 * scanner's findings and this document name a package the same way.
 */
export function debianPurl(pkg: Pick<DebianPackage, 'name' | 'version' | 'architecture'>, os?: OsRelease): string {
  const m = /^(\d+):(.*)$/.exec(pkg.version);
  const qualifiers: Record<string, string> = {
    ...(pkg.architecture && { arch: pkg.architecture }),
    ...(os?.version && { distro: `${os.id}-${os.version}` }),
    ...(m?.[1] && { epoch: m[1] }),
  };
  return new PackageURL('deb', os?.id ?? 'debian', pkg.name, m?.[2] ?? pkg.version, qualifiers).toString();
}

/** `pkg:pypi/python-dateutil@2.9.0.post0`: the PEP 503 name, as the purl specification asks. */
export function pythonPurl(dist: Pick<PythonDistribution, 'name' | 'version'>): string {
  const name = dist.name.toLowerCase().replace(/[-_.]+/g, '-');
  return new PackageURL('pypi', undefined, name, dist.version || undefined, undefined).toString();
}

function debianComponent(pkg: DebianPackage, os: OsRelease | undefined, refs: Set<string>): Models.Component {
  const purl = debianPurl(pkg, os);
  const component = new Models.Component(Enums.ComponentType.Library, pkg.name, {
    bomRef: uniqueRef(purl, refs),
    version: pkg.version,
    purl,
  });
  addLicenses(component, pkg.licenses ?? []);
  if (pkg.source) component.properties.add(new Models.Property(SBOM_PROPERTIES.debianSource, pkg.source));
  return component;
}

function pythonComponent(dist: PythonDistribution, refs: Set<string>): Models.Component {
  const purl = pythonPurl(dist);
  const component = new Models.Component(Enums.ComponentType.Library, dist.name, {
    bomRef: uniqueRef(purl, refs),
    ...(dist.version && { version: dist.version }),
    purl,
  });
  if (dist.licenseExpression) component.licenses.add(new Models.LicenseExpression(dist.licenseExpression));
  else addLicenses(component, dist.licenses ?? []);
  component.properties.add(new Models.Property(SBOM_PROPERTIES.pythonLocation, dist.location));
  return component;
}

/** Names that are SPDX identifiers as such, the others by name (Debian's short names mostly are not SPDX's). */
function addLicenses(component: Models.Component, names: readonly string[]): void {
  for (const name of names) {
    component.licenses.add(SPDX.isSupportedSpdxId(name) ? new Models.SpdxLicense(name) : new Models.NamedLicense(name));
  }
}

function fileComponent(file: HashedFile): Models.Component {
  const component = new Models.Component(Enums.ComponentType.File, file.path, { bomRef: `file:${file.path}` });
  component.hashes.set(Enums.HashAlgorithm['SHA-256'], file.sha256);
  return component;
}

/** The report's summary of a document: its identity and how many components of each kind it lists. */
export function sbomReport(bom: CycloneDxBom): SbomReport {
  const components = bom.components ?? [];
  const purls = (prefix: string) => components.filter((c) => c.purl?.startsWith(prefix)).length;
  return {
    format: bom.bomFormat,
    specVersion: bom.specVersion,
    serialNumber: bom.serialNumber,
    components: components.length,
    debian: purls('pkg:deb/'),
    python: purls('pkg:pypi/'),
    files: components.filter((c) => c.type === 'file').length,
  };
}

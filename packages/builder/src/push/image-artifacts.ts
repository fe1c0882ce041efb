import { createHash } from 'node:crypto';

/**
 * Evidence stored next to a pushed image: its gate report and its SBOM (pushed with the image) and the record of each
 * release of it. An image's labels are fixed when it is built, before it is measured or released, so each piece travels as its
 * own small OCI artifact: an OCI image manifest whose config is `{}` and whose one layer is the JSON, with
 * `subject` = the image's manifest (OCI 1.1: on ECR a lifecycle policy that expires the image deletes its referring
 * artifacts with it) and the annotation `org.4pass.image.digest`. It is tagged `sha256-<hex of the image's digest>.<kind>`
 * (cosign's convention for signatures: registries without the OCI referrers API, such as distribution 2.8, store it
 * like any tag), so `latest` moving never pairs an image with another image's evidence.
 */

/** One kind of artifact stored next to an image. */
export interface ArtifactKind {
  /** Tag suffix: `sha256-<hex>.<suffix>`. */
  suffix: string;
  /** Media type of the JSON layer, and the artifact's `artifactType`. */
  artifactType: string;
  configType: string;
}

/** The kinds of evidence stored next to an image. Another kind is one more entry. */
export const IMAGE_ARTIFACTS = {
  report: {
    suffix: 'report',
    artifactType: 'application/vnd.4pass.gate-report.v2+json',
    configType: 'application/vnd.4pass.gate-report.config.v1+json',
  },
  /** The image's CycloneDX SBOM: its media type is CycloneDX's own, so SBOM tools that list referrers recognise it. */
  sbom: {
    suffix: 'sbom',
    artifactType: 'application/vnd.cyclonedx+json',
    configType: 'application/vnd.4pass.sbom.config.v1+json',
  },
  release: {
    suffix: 'release',
    artifactType: 'application/vnd.4pass.release.v1+json',
    configType: 'application/vnd.4pass.release.config.v1+json',
  },
} as const satisfies Record<string, ArtifactKind>;

export type ImageArtifactKind = keyof typeof IMAGE_ARTIFACTS;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Annotation naming the image the artifact describes (also in `subject`; older reports have only this). */
export const SUBJECT_ANNOTATION = 'org.4pass.image.digest';
/** Evidence is small; a larger blob is not ours. */
const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

/** What storing and reading artifacts needs from a registry (the registry HTTP client implements it). */
export interface ArtifactRegistry {
  /** The manifest at `reference` (tag or digest), or undefined when there is none. */
  getManifest(
    name: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined>;
  /** A blob's bytes (at most `maxBytes`). */
  getBlob(name: string, digest: string, maxBytes: number): Promise<Buffer>;
  /** Uploads a blob (monolithic); resolves with its digest. */
  putBlob(name: string, content: Buffer): Promise<string>;
  /** Puts a manifest under a tag; resolves with its digest. */
  putManifest(name: string, reference: string, mediaType: string, body: Buffer): Promise<string>;
}

/** The image an artifact describes: its manifest's descriptor (OCI `subject`). */
export interface ImageSubject {
  digest: string;
  mediaType: string;
  size: number;
}

/** An artifact read back: its tag and manifest digest, the image it names, and its JSON. */
export interface StoredArtifact {
  tag: string;
  digest: string;
  /** The image digest the artifact says it describes (`subject`, else the annotation); undefined when it names none. */
  subject: string | undefined;
  content: unknown;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * `sha256:ab…` → `sha256-ab….<suffix>`, and `….<suffix>-<qualifier>` for kinds stored more than once per image
 * (a release record per release).
 */
export function artifactTag(kind: ImageArtifactKind, imageDigest: string, qualifier?: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(imageDigest);
  if (!m) throw new RangeError(`not a sha256 manifest digest: ${imageDigest}`);
  return `sha256-${m[1]}.${IMAGE_ARTIFACTS[kind].suffix}${qualifier ? `-${qualifier}` : ''}`;
}

/** The artifact's blobs and manifest (pure). */
export function imageArtifact(
  kind: ImageArtifactKind,
  content: unknown,
  subject: ImageSubject,
): { config: Buffer; layer: Buffer; manifest: Buffer } {
  const { artifactType, configType } = IMAGE_ARTIFACTS[kind];
  const config = Buffer.from('{}');
  const layer = Buffer.from(JSON.stringify(content));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { mediaType: configType, digest: sha256(config), size: config.length },
    layers: [{ mediaType: artifactType, digest: sha256(layer), size: layer.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { [SUBJECT_ANNOTATION]: subject.digest },
  };
  return { config, layer, manifest: Buffer.from(JSON.stringify(manifest)) };
}

/** Pushes `content` as the `kind` artifact of the image `subject` in repository `name`; resolves with its tag. */
export async function storeArtifact(
  registry: ArtifactRegistry,
  options: { kind: ImageArtifactKind; name: string; subject: ImageSubject; content: unknown; qualifier?: string },
): Promise<{ tag: string; digest: string }> {
  const tag = artifactTag(options.kind, options.subject.digest, options.qualifier);
  const artifact = imageArtifact(options.kind, options.content, options.subject);
  await registry.putBlob(options.name, artifact.config);
  await registry.putBlob(options.name, artifact.layer);
  const digest = await registry.putManifest(options.name, tag, OCI_MANIFEST, artifact.manifest);
  return { tag, digest };
}

/**
 * The `kind` artifact stored for the image `imageDigest`, or undefined when there is none (or the tag holds something
 * that is not one). The caller checks `subject` against the image and validates `content`.
 * @throws {Error} the artifact's blob does not match its digest.
 */
export async function loadArtifact(
  registry: ArtifactRegistry,
  options: { kind: ImageArtifactKind; name: string; imageDigest: string; qualifier?: string },
): Promise<StoredArtifact | undefined> {
  const tag = artifactTag(options.kind, options.imageDigest, options.qualifier);
  const found = await registry.getManifest(options.name, tag);
  if (!found) return undefined;
  const manifest = JSON.parse(found.body.toString('utf8')) as {
    layers?: { mediaType?: string; digest?: string }[];
    subject?: { digest?: string };
    annotations?: Record<string, string>;
  };
  const layer = manifest.layers?.find((l) => l.mediaType === IMAGE_ARTIFACTS[options.kind].artifactType);
  if (!layer?.digest) return undefined;
  const body = await registry.getBlob(options.name, layer.digest, MAX_ARTIFACT_BYTES);
  if (sha256(body) !== layer.digest) throw new Error(`artifact blob ${layer.digest} does not match its digest`);
  return {
    tag,
    digest: found.digest,
    subject: manifest.subject?.digest ?? manifest.annotations?.[SUBJECT_ANNOTATION],
    content: JSON.parse(body.toString('utf8')) as unknown,
  };
}

/** The image's descriptor, read from the registry (for an artifact's `subject`); undefined when it is not there. */
export async function imageSubject(
  registry: Pick<ArtifactRegistry, 'getManifest'>,
  name: string,
  digest: string,
): Promise<ImageSubject | undefined> {
  const found = await registry.getManifest(name, digest);
  if (!found) return undefined;
  // A registry may omit the Content-Type; the manifest names its own type.
  const mediaType = found.mediaType || (JSON.parse(found.body.toString('utf8')) as { mediaType?: string }).mediaType;
  return { digest: found.digest, mediaType: mediaType ?? OCI_MANIFEST, size: found.body.length };
}

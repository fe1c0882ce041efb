import { createHash } from 'node:crypto';

/**
 * The gate report stored with a pushed image, so a later run can compare with that image (`--baseline-image`)
 * without pulling it or measuring it again. An image's labels are fixed when it is built, before it is measured, so
 * the report travels as its own small OCI artifact: an OCI image manifest whose config is `{}` and whose one layer is
 * the report's JSON, pushed to the conventional tag `sha256-<hex of the image's manifest digest>.report` (the
 * convention cosign uses for signatures: registries without the OCI referrers API, such as distribution 2.8, store
 * it like any tag). The tag names the image by digest, so `latest` moving never points at another image's report.
 */

/** Media type of the report layer (and the artifact's `artifactType`). */
export const REPORT_ARTIFACT_TYPE = 'application/vnd.4pass.gate-report.v2+json';
export const REPORT_CONFIG_TYPE = 'application/vnd.4pass.gate-report.config.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Annotation naming the image the report describes. */
export const REPORT_SUBJECT_ANNOTATION = 'org.4pass.image.digest';
/** Reports are small; a larger blob is not ours. */
const MAX_REPORT_BYTES = 16 * 1024 * 1024;

/** What storing and reading a report artifact needs from a registry (the registry HTTP client implements it). */
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

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `sha256:ab…` → `sha256-ab….report`. */
export function reportArtifactTag(imageDigest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(imageDigest);
  if (!m) throw new RangeError(`not a sha256 manifest digest: ${imageDigest}`);
  return `sha256-${m[1]}.report`;
}

/** The artifact's blobs and manifest for a report (pure). */
export function reportArtifact(
  report: unknown,
  imageDigest: string,
): { config: Buffer; layer: Buffer; manifest: Buffer } {
  const config = Buffer.from('{}');
  const layer = Buffer.from(JSON.stringify(report));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: REPORT_ARTIFACT_TYPE,
    config: { mediaType: REPORT_CONFIG_TYPE, digest: sha256(config), size: config.length },
    layers: [{ mediaType: REPORT_ARTIFACT_TYPE, digest: sha256(layer), size: layer.length }],
    annotations: { [REPORT_SUBJECT_ANNOTATION]: imageDigest },
  };
  return { config, layer, manifest: Buffer.from(JSON.stringify(manifest)) };
}

/** Pushes the report of the image `imageDigest` in repository `name`; resolves with the tag it was stored under. */
export async function storeReport(
  registry: ArtifactRegistry,
  options: { name: string; imageDigest: string; report: unknown },
): Promise<{ tag: string; digest: string }> {
  const tag = reportArtifactTag(options.imageDigest);
  const artifact = reportArtifact(options.report, options.imageDigest);
  await registry.putBlob(options.name, artifact.config);
  await registry.putBlob(options.name, artifact.layer);
  const digest = await registry.putManifest(options.name, tag, OCI_MANIFEST, artifact.manifest);
  return { tag, digest };
}

/**
 * The JSON stored for the image `imageDigest`, or undefined when none was stored (or the tag holds something else).
 * The caller validates it (`parseGateReport`).
 */
export async function loadStoredReport(
  registry: ArtifactRegistry,
  options: { name: string; imageDigest: string },
): Promise<unknown> {
  const found = await registry.getManifest(options.name, reportArtifactTag(options.imageDigest));
  if (!found) return undefined;
  const manifest = JSON.parse(found.body.toString('utf8')) as {
    layers?: { mediaType?: string; digest?: string; size?: number }[];
    annotations?: Record<string, string>;
  };
  const layer = manifest.layers?.find((l) => l.mediaType === REPORT_ARTIFACT_TYPE);
  if (!layer?.digest || manifest.annotations?.[REPORT_SUBJECT_ANNOTATION] !== options.imageDigest) return undefined;
  const body = await registry.getBlob(options.name, layer.digest, MAX_REPORT_BYTES);
  if (sha256(body) !== layer.digest) throw new Error(`report blob ${layer.digest} does not match its digest`);
  return JSON.parse(body.toString('utf8')) as unknown;
}

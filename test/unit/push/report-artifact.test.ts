import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  loadStoredReport,
  reportArtifact,
  reportArtifactTag,
  storeReport,
  type ArtifactRegistry,
} from '../../../packages/builder/src/push/report-artifact.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function memoryRegistry(): ArtifactRegistry & { manifests: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  return {
    manifests,
    getManifest: async (name, ref) => {
      const body = manifests.get(`${name}:${ref}`);
      return body && { digest: sha(body), mediaType: 'application/vnd.oci.image.manifest.v1+json', body };
    },
    getBlob: async (_name, digest) => blobs.get(digest) ?? Buffer.alloc(0),
    putBlob: async (_name, content) => {
      blobs.set(sha(content), content);
      return sha(content);
    },
    putManifest: async (name, ref, _type, body) => {
      manifests.set(`${name}:${ref}`, body);
      return sha(body);
    },
  };
}

describe('report artifact', () => {
  it('is stored under sha256-<hex>.report as an OCI artifact and read back as it was', async () => {
    const registry = memoryRegistry();
    const report = { schemaVersion: 2, images: [{ name: 'worker' }] };
    const stored = await storeReport(registry, { name: '4pass/worker', imageDigest: DIGEST, report });
    expect(stored.tag).toBe(`sha256-${'ab'.repeat(32)}.report`);
    const manifest = JSON.parse(registry.manifests.get(`4pass/worker:${stored.tag}`)?.toString() ?? '{}');
    expect(manifest).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.4pass.gate-report.v2+json',
      annotations: { 'org.4pass.image.digest': DIGEST },
    });
    expect(await loadStoredReport(registry, { name: '4pass/worker', imageDigest: DIGEST })).toEqual(report);
  });

  it("finds nothing for an image without a report, or a tag holding another image's report", async () => {
    const registry = memoryRegistry();
    expect(await loadStoredReport(registry, { name: 'r', imageDigest: DIGEST })).toBeUndefined();
    const other = reportArtifact({}, `sha256:${'cd'.repeat(32)}`);
    registry.manifests.set(`r:${reportArtifactTag(DIGEST)}`, other.manifest);
    expect(await loadStoredReport(registry, { name: 'r', imageDigest: DIGEST })).toBeUndefined();
  });

  it('refuses what is not a sha256 digest', () => {
    expect(() => reportArtifactTag('latest')).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import {
  artifactTag,
  IMAGE_ARTIFACTS,
  imageArtifact,
  imageSubject,
  loadArtifact,
  storeArtifact,
} from '../../../packages/builder/src/push/image-artifacts.js';
import { memoryRegistry } from '../release/memory-registry.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const HEX = 'ab'.repeat(32);

describe('artifacts stored next to an image', () => {
  it('stores the gate report under sha256-<hex>.report as an OCI artifact naming the image, and reads it back', async () => {
    const registry = memoryRegistry();
    const image = registry.pushImage('4pass/worker', 'sha-abc1234', {});
    const subject = (await imageSubject(registry, '4pass/worker', image.digest))!;
    expect(subject).toEqual({
      digest: image.digest,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      size: registry.manifests.get(image.digest)?.body.length,
    });
    const content = { schemaVersion: 2, images: [{ name: 'worker' }] };
    const stored = await storeArtifact(registry, { kind: 'report', name: '4pass/worker', subject, content });
    expect(stored.tag).toBe(`sha256-${image.digest.slice(7)}.report`);
    const manifest = JSON.parse(registry.manifests.get(stored.digest)?.body.toString() ?? '{}');
    expect(manifest).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.4pass.gate-report.v2+json',
      subject,
      annotations: { 'org.4pass.image.digest': image.digest },
    });
    expect(await loadArtifact(registry, { kind: 'report', name: '4pass/worker', imageDigest: image.digest })).toEqual({
      tag: stored.tag,
      digest: stored.digest,
      subject: image.digest,
      content,
    });
  });

  it('finds nothing for an image without one, and says which image a misplaced one names', async () => {
    const registry = memoryRegistry();
    expect(await loadArtifact(registry, { kind: 'report', name: 'r', imageDigest: DIGEST })).toBeUndefined();
    const other = `sha256:${'cd'.repeat(32)}`;
    const misplaced = imageArtifact('report', {}, { digest: other, mediaType: 'x', size: 1 });
    await registry.putBlob('r', misplaced.config);
    await registry.putBlob('r', misplaced.layer);
    await registry.putManifest('r', artifactTag('report', DIGEST), 'x', misplaced.manifest);
    expect((await loadArtifact(registry, { kind: 'report', name: 'r', imageDigest: DIGEST }))?.subject).toBe(other);
  });

  it('reads a report stored before artifacts named their subject (the annotation only)', async () => {
    const registry = memoryRegistry();
    const old = imageArtifact('report', { old: true }, { digest: DIGEST, mediaType: 'x', size: 1 });
    const manifest = JSON.parse(old.manifest.toString()) as Record<string, unknown>;
    delete manifest.subject;
    await registry.putBlob('r', old.config);
    await registry.putBlob('r', old.layer);
    await registry.putManifest('r', artifactTag('report', DIGEST), 'x', Buffer.from(JSON.stringify(manifest)));
    expect(await loadArtifact(registry, { kind: 'report', name: 'r', imageDigest: DIGEST })).toMatchObject({
      subject: DIGEST,
      content: { old: true },
    });
  });

  it('tags each kind by the image digest; a release record per release, with its qualifier', () => {
    expect(Object.keys(IMAGE_ARTIFACTS)).toEqual(['report', 'sbom', 'release']);
    expect(artifactTag('report', DIGEST)).toBe(`sha256-${HEX}.report`);
    expect(artifactTag('sbom', DIGEST)).toBe(`sha256-${HEX}.sbom`);
    expect(IMAGE_ARTIFACTS.sbom.artifactType).toBe('application/vnd.cyclonedx+json');
    expect(artifactTag('release', DIGEST, '20250102-030405')).toBe(`sha256-${HEX}.release-20250102-030405`);
    expect(() => artifactTag('report', 'latest')).toThrow(RangeError);
  });

  it('refuses a blob that is not what its manifest says', async () => {
    const registry = memoryRegistry();
    const stored = await storeArtifact(registry, {
      kind: 'report',
      name: 'r',
      subject: { digest: DIGEST, mediaType: 'x', size: 1 },
      content: { a: 1 },
    });
    const layer = JSON.parse(registry.manifests.get(stored.digest)!.body.toString()).layers[0].digest as string;
    registry.blobs.set(layer, Buffer.from('{"a":2}'));
    await expect(loadArtifact(registry, { kind: 'report', name: 'r', imageDigest: DIGEST })).rejects.toThrow(
      /does not match its digest/,
    );
  });
});

import { imageSbom, parseConfig, type CycloneDxBom, type GateReport } from '@4pass/builder/internal';
import { imageSubject, storeArtifact } from '../../../packages/builder/src/push/image-artifacts.js';
import { buildGateReport, evaluateImage } from '../../../packages/builder/src/report/evaluate-image.js';
import { factsFixture } from '../budgets/facts-fixture.js';
import type { MemoryRegistry } from './memory-registry.js';

/** The images config of the release tests: two images in one registry. */
export const releaseConfig = (host = 'registry.test') =>
  parseConfig(
    {
      registry: { host },
      network: { retries: 1 },
      images: [
        { name: 'api', repository: '4pass/api', dockerfile: 'D', context: '.', budgets: { size: '1GB' } },
        { name: 'worker', repository: '4pass/worker', dockerfile: 'D', context: '.', budgets: { size: '1GB' } },
      ],
    },
    'images.config.json',
  );

/** A gate report of one image measured as `imageId`: passing, or failing its size budget. */
export function gateReport(name: string, imageId: string, pass = true): GateReport {
  const image = parseConfig(
    { images: [{ name, dockerfile: 'D', context: '.', budgets: { size: pass ? '1GB' : '1MB' } }] },
    'x',
  ).images[0]!;
  return buildGateReport([evaluateImage(factsFixture({ imageId }), image)], { now: new Date('2025-05-01T00:00:00Z') });
}

/** The SBOM of an image measured as `imageId` (one Debian package). */
export function sbomOf(name: string, imageId: string): CycloneDxBom {
  const debian = [
    { name: 'libc6', version: '2.36-9', sizeBytes: 1, sizeFrom: 'files' as const, fileCount: 1, layer: 0 },
  ];
  const contents = { python: [], debian, paths: [], pythonStdlib: [], sourcesWithoutBytecode: 0 };
  return imageSbom(
    { imageId, ref: `${name}:sha`, contents: { ...contents, elf: { files: 0, unowned: [] } } },
    { name, timestamp: new Date('2025-05-01T00:00:00Z') },
  );
}

/**
 * What `build:images --push` leaves for one image: `sha-<7>` in the registry (with the commit and its time as labels)
 * and, unless `report` is false (never gated: nothing stored), its SBOM and gate report next to it. `report: 'fail'`
 * stores a report of a failed gate; `sbom: false` leaves the SBOM out, `sbom: 'other'` stores another image's.
 */
export async function pushGated(
  registry: MemoryRegistry,
  options: {
    name: string;
    image: string;
    sha: string;
    created: string;
    report?: boolean | 'fail';
    sbom?: boolean | 'other';
  },
): Promise<{ digest: string; configDigest: string; tag: string }> {
  const tag = `sha-${options.sha.slice(0, 7)}`;
  const pushed = registry.pushImage(options.name, tag, {
    'org.opencontainers.image.revision': options.sha,
    'org.opencontainers.image.created': options.created,
  });
  if (options.report !== false) {
    const subject = (await imageSubject(registry, options.name, pushed.digest))!;
    if (options.sbom !== false) {
      const id = options.sbom === 'other' ? `sha256:${'9'.repeat(64)}` : pushed.configDigest;
      await storeArtifact(registry, { kind: 'sbom', name: options.name, subject, content: sbomOf(options.image, id) });
    }
    const content = gateReport(options.image, pushed.configDigest, options.report !== 'fail');
    await storeArtifact(registry, { kind: 'report', name: options.name, subject, content });
  }
  registry.calls.length = 0;
  return { ...pushed, tag };
}

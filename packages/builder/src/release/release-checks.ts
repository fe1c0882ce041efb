import type { ImageArtifactKind, StoredArtifact } from '../push/image-artifacts.js';
import type { GateReport } from '../report/gate-report.js';
import { parseGateReport } from '../report/load-report.js';
import { SBOM_PROPERTIES, type CycloneDxBom } from '../sbom/image-sbom.js';

/** One reason to release an image, or to refuse it. */
export interface ReleaseCheck {
  /** `image`, then per required artifact `<kind>` (stored), `<kind>-digest` (for this image) and its content checks. */
  id: string;
  status: 'pass' | 'fail';
  message: string;
}

/** What the registry holds for the image to release (read by `readCandidate`). */
export interface ReleaseEvidence {
  /** `host/name:from`, for messages. */
  image: string;
  /** The manifest digest `from` points at. */
  digest: string;
  /** The digest of the image's config: the image id the gate measured (the engine's classic image store). */
  configDigest: string | undefined;
  /** The artifacts stored for exactly `digest`, by kind (absent: none stored). */
  artifacts: Partial<Record<ImageArtifactKind, StoredArtifact>>;
}

/** Evidence a release requires next to the image: its kind, and the checks on its content. */
interface RequiredArtifact {
  kind: ImageArtifactKind;
  /** `gate report`. */
  what: string;
  check(artifact: StoredArtifact, evidence: ReleaseEvidence): ReleaseCheck[];
}

/**
 * What a release requires, in the order it is checked. Requiring another artifact (an SBOM) is one more entry: its
 * kind in `IMAGE_ARTIFACTS` and the checks on its content.
 */
export const RELEASE_REQUIREMENTS: readonly RequiredArtifact[] = [
  { kind: 'report', what: 'gate report', check: checkGateReport },
  { kind: 'sbom', what: 'SBOM', check: checkSbom },
];

const pass = (id: string, message: string): ReleaseCheck => ({ id, status: 'pass', message });
const fail = (id: string, message: string): ReleaseCheck => ({ id, status: 'fail', message });

/** Every check of the image's evidence (pure); the image is released only when all pass. */
export function evaluateRelease(evidence: ReleaseEvidence): ReleaseCheck[] {
  const checks = [pass('image', `${evidence.image} is ${evidence.digest}`)];
  for (const required of RELEASE_REQUIREMENTS) {
    const artifact = evidence.artifacts[required.kind];
    if (!artifact) {
      checks.push(fail(required.kind, `no ${required.what} is stored for ${evidence.digest}: it was never gated`));
      continue;
    }
    checks.push(pass(required.kind, `${required.what} stored as ${artifact.tag}`));
    if (artifact.subject !== evidence.digest) {
      const names = artifact.subject ?? 'no image';
      checks.push(
        fail(`${required.kind}-digest`, `the ${required.what} at ${artifact.tag} names ${names}, not this image`),
      );
      continue;
    }
    checks.push(...required.check(artifact, evidence));
  }
  return checks;
}

/** The image missing from the registry: the one check that fails. */
export function missingImage(image: string): ReleaseCheck[] {
  return [fail('image', `${image} does not exist: nothing was pushed under that tag`)];
}

/** The stored gate report is a valid report, of this image, and it passed. */
function checkGateReport(artifact: StoredArtifact, evidence: ReleaseEvidence): ReleaseCheck[] {
  let report: GateReport;
  try {
    report = parseGateReport(artifact.content, artifact.tag);
  } catch (error) {
    return [
      fail('report-digest', `the gate report at ${artifact.tag} is not a valid report: ${(error as Error).message}`),
    ];
  }
  const ids = [evidence.configDigest, evidence.digest];
  const measured = report.images.find((i) => ids.includes(i.imageId));
  if (!measured) {
    const other = report.images.map((i) => i.imageId).join(', ') || 'no image';
    return [fail('report-digest', `the gate report at ${artifact.tag} measured ${other}, not this image`)];
  }
  const checks = [pass('report-digest', `the gate report measured this image (${measured.imageId})`)];
  if (report.pass && measured.pass) {
    return [...checks, pass('report-pass', `the gate passed on ${report.generatedAt}`)];
  }
  const failed = measured.checks.filter((c) => c.status === 'fail').map((c) => c.message);
  const errors = report.errors.map((e) => `${e.name}: ${e.message}`);
  const why = [...failed, ...errors].slice(0, 3).join('; ') || 'the report says it did not pass';
  return [...checks, fail('report-pass', `the gate failed on ${report.generatedAt}: ${why}`)];
}

/**
 * The stored SBOM is a CycloneDX document about this image: its subject component names the image id the gate
 * measured (the push validated it against the schema before storing it).
 */
function checkSbom(artifact: StoredArtifact, evidence: ReleaseEvidence): ReleaseCheck[] {
  const bom = artifact.content as Partial<CycloneDxBom> | null;
  if (bom?.bomFormat !== 'CycloneDX' || typeof bom.specVersion !== 'string' || !Array.isArray(bom.components)) {
    return [fail('sbom-content', `the SBOM at ${artifact.tag} is not a CycloneDX document`)];
  }
  const subject = bom.metadata?.component;
  const id = subject?.properties?.find((p) => p.name === SBOM_PROPERTIES.imageId)?.value ?? subject?.['bom-ref'];
  if (!id || ![evidence.configDigest, evidence.digest].includes(id)) {
    return [fail('sbom-content', `the SBOM at ${artifact.tag} describes ${id ?? 'no image'}, not this image`)];
  }
  const count = bom.components.length;
  return [pass('sbom-content', `CycloneDX ${bom.specVersion} of this image (${id}), ${count} components`)];
}

import { loadArtifact, type ImageArtifactKind, type StoredArtifact } from '../push/image-artifacts.js';
import { evaluateRelease, missingImage, RELEASE_REQUIREMENTS, type ReleaseCheck } from './release-checks.js';
import { registryCall, type ReleaseContext } from './release-context.js';

/** An image as the registry holds it, checked for release; read only, nothing moved yet. */
export interface ReleaseCandidate {
  from: string;
  to: string;
  /** The manifest `from` names, as the registry serves it (absent: no such tag). */
  manifest: { digest: string; mediaType: string; body: Buffer } | undefined;
  /** The image's `org.opencontainers.image.revision` label. */
  commit: string | null;
  /** The image's `org.opencontainers.image.created` label (the commit's time), else its config's `created`. */
  created: string | null;
  /** What `to` points at now; null when it does not exist yet. */
  previous: { digest: string; commit: string | null; created: string | null } | null;
  artifacts: Partial<Record<ImageArtifactKind, StoredArtifact>>;
  checks: ReleaseCheck[];
  refused: boolean;
  /** The image is older than the one at `to`: releasing it is a rollback. */
  rollback: boolean;
}

interface WireManifest {
  mediaType?: string;
  config?: { digest?: string };
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
}

interface ImageFacts {
  configDigest: string | undefined;
  commit: string | null;
  created: string | null;
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const NO_FACTS: ImageFacts = { configDigest: undefined, commit: null, created: null };

/** Reads what the registry holds for `repository:from` (manifest, config, stored evidence) and what `to` names now. */
export async function readCandidate(ctx: ReleaseContext, from: string, to: string): Promise<ReleaseCandidate> {
  const { registry, name, repository } = ctx;
  const found = await registryCall(ctx, `read ${repository}:${from}`, () => registry.getManifest(name, from));
  const previous = await readPrevious(ctx, to);
  const base = { from, to, previous, artifacts: {}, rollback: false, commit: null, created: null };
  if (!found) {
    const checks = missingImage(`${repository}:${from}`);
    return report(ctx, { ...base, manifest: undefined, checks, refused: true });
  }
  const manifest = { ...found, mediaType: found.mediaType || mediaTypeOf(found.body) };
  const facts = await imageFacts(ctx, manifest.body);
  const artifacts: ReleaseCandidate['artifacts'] = {};
  for (const { kind } of RELEASE_REQUIREMENTS) {
    const stored = await registryCall(ctx, `read the ${kind} of ${repository}@${found.digest}`, () =>
      loadArtifact(registry, { kind, name, imageDigest: found.digest }),
    );
    if (stored) artifacts[kind] = stored;
  }
  const image = `${repository}:${from}`;
  const checks = evaluateRelease({ image, digest: found.digest, configDigest: facts.configDigest, artifacts });
  const rollback = isRollback(found.digest, facts.created, previous);
  const refused = checks.some((c) => c.status === 'fail');
  return report(ctx, { ...base, ...facts, manifest, artifacts, checks, refused, rollback });
}

function report(ctx: ReleaseContext, candidate: ReleaseCandidate): ReleaseCandidate {
  const { from, checks, refused, rollback } = candidate;
  const digest = candidate.manifest?.digest;
  ctx.emit({ type: 'checked', image: ctx.image, repository: ctx.repository, from, digest, checks, refused, rollback });
  return candidate;
}

/** What `to` names now, with its commit and time (for the record, and to tell a rollback). */
async function readPrevious(ctx: ReleaseContext, to: string): Promise<ReleaseCandidate['previous']> {
  const { registry, name, repository } = ctx;
  const found = await registryCall(ctx, `read ${repository}:${to}`, () => registry.getManifest(name, to));
  if (!found) return null;
  const { commit, created } = await imageFacts(ctx, found.body);
  return { digest: found.digest, commit, created };
}

/** Releasing an image built from an older commit than the one at `to` is a rollback. */
function isRollback(digest: string, created: string | null, previous: ReleaseCandidate['previous']): boolean {
  if (!previous || previous.digest === digest || !created || !previous.created) return false;
  return Date.parse(created) < Date.parse(previous.created);
}

/** The image's config digest, commit and creation time, from its config blob (an index: its linux/amd64 image). */
async function imageFacts(ctx: ReleaseContext, body: Buffer): Promise<ImageFacts> {
  const { registry, name, repository } = ctx;
  let manifest = parseManifest(body);
  const entry = manifest?.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
  if (entry) {
    const child = await registryCall(ctx, `read ${repository}@${entry.digest}`, () =>
      registry.getManifest(name, entry.digest),
    );
    manifest = child && parseManifest(child.body);
  }
  const configDigest = manifest?.config?.digest;
  if (!configDigest) return NO_FACTS;
  const blob = await registryCall(ctx, `read the config of ${repository}@${configDigest}`, () =>
    registry.getBlob(name, configDigest, MAX_CONFIG_BYTES),
  );
  const config = JSON.parse(blob.toString('utf8')) as {
    created?: string;
    config?: { Labels?: Record<string, string> };
  };
  const labels = config.config?.Labels ?? {};
  return {
    configDigest,
    commit: labels['org.opencontainers.image.revision'] ?? null,
    created: labels['org.opencontainers.image.created'] ?? config.created ?? null,
  };
}

function parseManifest(body: Buffer): WireManifest | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as WireManifest;
  } catch {
    return undefined;
  }
}

/** A registry that omits the Content-Type: the manifest names its own type (Docker v2 when it does not). */
function mediaTypeOf(body: Buffer): string {
  return parseManifest(body)?.mediaType ?? 'application/vnd.docker.distribution.manifest.v2+json';
}

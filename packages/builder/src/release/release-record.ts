/**
 * The record of one release, stored next to the released image as its `release` artifact
 * (`sha256-<hex>.release-<yyyymmdd-hhmmss>`: one per release, never overwritten): who released which image of which
 * commit, when, on the strength of which gate report, and what it replaced.
 */
export interface ReleaseRecord {
  schemaVersion: 1;
  /** `host/name`. */
  repository: string;
  /** The released manifest. */
  digest: string;
  /** `host/name@sha256:…`: what a task definition should name. */
  reference: string;
  /** The tag released (`sha-<7>`) and the tag moved (`latest`). */
  from: string;
  to: string;
  /** The image's `org.opencontainers.image.revision`; null when it has none. */
  commit: string | null;
  releasedAt: string;
  releasedBy: string;
  /** The CI run that released it (GitHub Actions), null elsewhere. */
  run: string | null;
  /** The gate report the release relied on: its tag and manifest digest. */
  report: { tag: string; digest: string };
  /** What `to` pointed at before; null for the first release. */
  previous: { digest: string; commit: string | null } | null;
  /** The released image is older than the one it replaces. */
  rollback: boolean;
}

/** Who releases: `GITHUB_ACTOR` (CI), else the local user. */
export function releaseActor(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_ACTOR || env.USER || env.USERNAME || 'unknown';
}

/** The GitHub Actions run URL, when running in one. */
export function releaseRun(env: NodeJS.ProcessEnv): string | null {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = env;
  if (!GITHUB_REPOSITORY || !GITHUB_RUN_ID) return null;
  return `${(GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`;
}

/** `2025-01-02T03:04:05.678Z` → `20250102-030405`: the record tag's qualifier, sortable. */
export function recordQualifier(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
}

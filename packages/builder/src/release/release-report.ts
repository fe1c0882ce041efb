import type { ReleaseCheck } from './release-checks.js';

/**
 * The JSON report of `pnpm release` (`--json FILE`), `schemaVersion: 1`; the Markdown and terminal renderings are made
 * from it. Documented in docs/report-schema.md ("Release report").
 */
export interface ReleaseReport {
  schemaVersion: 1;
  kind: 'release';
  generatedAt: string;
  /** The tag released (`sha-<7>`) and the tag moved (`latest`). */
  from: string;
  to: string;
  /** Every image released, or already released (exit 0). */
  pass: boolean;
  summary: { images: number; released: number; unchanged: number; refused: number; failed: number; skipped: number };
  images: ReleaseImageReport[];
}

/**
 * `released`: `to` moved to the image; `unchanged`: it already named it; `refused`: a check failed; `failed`: a
 * registry error; `skipped`: not attempted because another image was refused or failed (a release is all or nothing
 * until the first tag moves, then stops at the first failure).
 */
export type ReleaseStatus = 'released' | 'unchanged' | 'refused' | 'failed' | 'skipped';

export interface ReleaseImageReport {
  /** The image's name in images.config.json. */
  name: string;
  /** `host[:port]/name`. */
  repository: string;
  status: ReleaseStatus;
  /** The manifest `from` names; null when there is none (or it was not read). */
  digest: string | null;
  /** `host[:port]/name@sha256:…`: the digest-pinned reference a task definition should use. */
  reference: string | null;
  commit: string | null;
  /** What `to` named before this release (null: nothing yet, or not read). */
  previous: string | null;
  rollback: boolean;
  checks: ReleaseCheck[];
  /** The gate report the release relied on. */
  report: { tag: string; digest: string } | null;
  /** The release record stored next to the image. */
  record: { tag: string; digest: string } | null;
  /** Tags this run moved in the registry, in order (also when a later step failed). */
  tags: { tag: string; digest: string }[];
  /** Why it was refused, failed or skipped; for a rollback, what it rolled back from. */
  message: string | null;
}

/**
 * The exit code of a release, like `build:images`: 0 every image released (or already released), 1 an image was
 * refused (nothing moved), 3 a registry error. The CLI adds 2 for bad usage or config.
 */
export function releaseExitCode(report: ReleaseReport): 0 | 1 | 3 {
  if (report.summary.failed > 0) return 3;
  if (report.summary.refused > 0) return 1;
  return 0;
}

/** The report of a run, its summary counted from the images (pure). */
export function releaseReport(options: {
  from: string;
  to: string;
  images: ReleaseImageReport[];
  generatedAt: Date;
}): ReleaseReport {
  const count = (status: ReleaseStatus) => options.images.filter((i) => i.status === status).length;
  const summary = {
    images: options.images.length,
    released: count('released'),
    unchanged: count('unchanged'),
    refused: count('refused'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
  return {
    schemaVersion: 1,
    kind: 'release',
    generatedAt: options.generatedAt.toISOString(),
    from: options.from,
    to: options.to,
    pass: summary.images > 0 && summary.released + summary.unchanged === summary.images,
    summary,
    images: options.images,
  };
}

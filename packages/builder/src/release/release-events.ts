import type { ReleaseCheck } from './release-checks.js';

/** Progress of a release, for a renderer. Never carries credentials. */
export type ReleaseEvent =
  /** The image's evidence was read and checked; `refused` when a check failed (nothing of it will move). */
  | {
      type: 'checked';
      image: string;
      repository: string;
      from: string;
      digest: string | undefined;
      checks: ReleaseCheck[];
      refused: boolean;
      rollback: boolean;
    }
  /** `tag` now points at `digest` (the manifest copied in the registry, verified). */
  | { type: 'tag-pointed'; image: string; tag: string; digest: string }
  /** `tag` already pointed at `digest`: nothing moved. */
  | { type: 'unchanged'; image: string; tag: string; digest: string }
  /** The release record was stored next to the image. */
  | { type: 'recorded'; image: string; tag: string }
  | { type: 'retry'; image: string; operation: string; attempt: number; delayMs: number; reason: string };

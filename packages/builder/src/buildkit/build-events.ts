/**
 * Typed progress events of a build (camelCase domain types, decoded from BuildKit's trace). Every step event carries
 * the step's display index (`#N`, numbered in the order steps start), its vertex `digest` and its `name`.
 */
export interface StepRef {
  index: number;
  digest: string;
  name: string;
}

export type BuildEvent =
  | { type: 'build-started'; buildId: string; tags: string[] }
  | { type: 'base-image-fallback'; arg: string; requested: string; used: string }
  | ({ type: 'step-started'; startedAt: number } & StepRef)
  /** One complete line of output; `elapsedMs` is relative to the start of the step's current run. */
  | ({ type: 'step-log'; text: string; stream: 'stdout' | 'stderr'; elapsedMs: number } & StepRef)
  /** Sub-progress of a step ("exporting layers", downloads); `current`/`total` in bytes, `total` 0 when unknown. */
  | ({
      type: 'step-status';
      id: string;
      current: number;
      total: number;
      /** The status's own timestamp (ms since the epoch). */
      timestamp: number;
      /** From the status's start to its completion, or to `timestamp` while it runs. */
      durationMs: number | undefined;
      completed: boolean;
    } & StepRef)
  | ({ type: 'step-warning'; message: string } & StepRef)
  | ({ type: 'step-cached' } & StepRef)
  | ({ type: 'step-done'; durationMs: number } & StepRef)
  | ({ type: 'step-error'; message: string; logTail: string[] } & StepRef)
  | ({ type: 'step-canceled' } & StepRef)
  /** A `{"stream": …}` line from the daemon (e.g. "Successfully tagged x" on Docker 20.10). */
  | { type: 'build-message'; text: string }
  | { type: 'build-finished'; imageId: string; durationMs: number }
  /** The build failed; `step` is the failing step, absent for frontend errors (parse error, unknown target). */
  | { type: 'build-failed'; message: string; step: StepRef | undefined; logTail: string[]; canceled: boolean };

export type BuildEventType = BuildEvent['type'];

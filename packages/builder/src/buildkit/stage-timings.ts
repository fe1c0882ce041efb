import type { StepSummary } from './trace-tracker.js';

/** One Dockerfile stage of a build: taken whole from BuildKit's cache, or (partly) rebuilt, and how long it took. */
export interface StageTiming {
  /** The stage's name (`builder`, `optimizer`, `stage-2` when unnamed); `internal` for BuildKit's own steps. */
  stage: string;
  /** Every step of the stage came from the cache. */
  cached: boolean;
  /** Steps of the stage that ran / were cached. */
  stepsRun: number;
  stepsCached: number;
  /** Wall time of the steps that ran, summed. */
  durationMs: number;
}

/**
 * The Dockerfile stages of a build from its steps, in the order they first appear. BuildKit names a step
 * `[<stage> <i>/<n>] …`; BuildKit's own steps (`[internal] load …`, `exporting to image`) are left out, and a stage's
 * `FROM` counts as cached (BuildKit resolves the base on every build and never marks it cached).
 */
export function stageTimings(steps: readonly StepSummary[]): StageTiming[] {
  const stages = new Map<string, StageTiming>();
  for (const step of steps) {
    const named = /^\[([^\]\s]+)(?:\s+\d+\/\d+)?\]\s*(\S*)/.exec(step.name);
    const stage = named?.[1];
    if (!stage || stage === 'internal') continue;
    const timing = stages.get(stage) ?? { stage, cached: true, stepsRun: 0, stepsCached: 0, durationMs: 0 };
    if (step.cached || named?.[2] === 'FROM') timing.stepsCached++;
    else {
      timing.stepsRun++;
      timing.cached = false;
      timing.durationMs += step.durationMs;
    }
    stages.set(stage, timing);
  }
  return [...stages.values()];
}

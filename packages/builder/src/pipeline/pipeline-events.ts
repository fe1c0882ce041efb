import type { BuildEvent } from '../buildkit/build-events.js';
import type { PushEvent } from '../push/push-image.js';
import type { ImageReport } from '../report/gate-report.js';
import type { WorkerEvent } from '../worker/build-worker-image.js';

/** The per-image stages `runImages` times and reports, in pipeline order. */
export type PipelineStage = 'build' | 'inspect' | 'startup' | 'baseline' | 'budgets' | 'push';

/** Pipeline order: a later stage is "further along" (used to say where a run was interrupted). */
export const PIPELINE_STAGES: readonly PipelineStage[] = ['build', 'inspect', 'startup', 'baseline', 'budgets', 'push'];

/** What `runImages` reports while it runs; the CLI renders these (`createPipelineRenderer`). */
export type PipelineEvent =
  | { type: 'tags'; tags: string[]; sha?: string; warning?: string }
  /** Start-up containers left by an earlier run that was killed, removed before this run measured anything. */
  | { type: 'leftovers-removed'; engine: string; containers: string[] }
  /** The configured build secrets: ids given, and ids whose source is absent (never a value). */
  | { type: 'secrets'; given: string[]; missing: { id: string; source: string }[] }
  | { type: 'image-started'; image: string; engine: string }
  | { type: 'stage-started'; image: string; stage: PipelineStage }
  | { type: 'stage-done'; image: string; stage: PipelineStage; durationMs: number; detail?: string }
  | { type: 'build'; image: string; event: BuildEvent }
  | { type: 'worker'; image: string; event: WorkerEvent }
  | { type: 'push'; image: string; event: PushEvent }
  | { type: 'image-done'; image: string; report: ImageReport }
  | { type: 'image-failed'; image: string; stage: PipelineStage; error: Error }
  | { type: 'push-skipped'; reason: string }
  /** Something the run went on without, e.g. credentials for a registry build cache (read anonymously instead). */
  | { type: 'warning'; image: string; message: string };

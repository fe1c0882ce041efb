import type { BuildResult } from '../buildkit/build-image.js';
import { engineLabel } from '../engine/engine.js';
import type { PushedTag, PushResult } from '../push/push-image.js';
import type { ResolvedTags } from '../push/tags.js';
import type { CycloneDxBom } from '../sbom/image-sbom.js';
import type { GateReport, PushReport } from '../report/gate-report.js';
import type { WorkerBuildResult } from '../worker/build-worker-image.js';
import type { RunPlan } from './config-stage.js';
import type { PipelineStage } from './pipeline-events.js';
import { PushStageError } from './push-stage.js';
import type { ImageRun, Interruption, ScheduleResult } from './schedule-images.js';
import type { ImageStageTypes } from './stage-types.js';

/**
 * One image's push: every tag with its digest (and where its SBOM was stored beside it), the failure (and the tags
 * that reached the registry), or skipped.
 */
export type ImagePushOutcome =
  | ({ status: 'pushed'; sbom?: { tag: string; digest: string } } & PushResult)
  | { status: 'failed'; message: string; error: Error; interrupted: boolean; tags: PushedTag[] }
  | { status: 'skipped'; reason: string };

/** Where and how fast one image went through the stages. */
export interface ImageRunRecord {
  /** The engine that built, measured and pushed the image (`engineLabel`); unset when its build never started. */
  engine?: string;
  /** Milliseconds per finished stage. */
  durations: Partial<Record<PipelineStage, number>>;
  /** The stage where the image stopped, if it did (failed, or interrupted). */
  stopped?: { stage: PipelineStage; message: string; interrupted: boolean };
}

/** An aborted run: the stage it was in, and exactly what reached the registry (usually nothing). */
export interface RunInterruption extends Interruption {
  pushed: { image: string; tags: PushedTag[] }[];
}

export interface RunImagesResult {
  /** The gate: every measured image and every error. Always returned, whatever happened to the push. */
  report: GateReport;
  builds: Record<string, BuildResult | WorkerBuildResult>;
  /**
   * Each inspected image's SBOM (CycloneDX 1.6 JSON, from its contents), by image name. `pnpm build:images --sbom DIR`
   * writes them; `validateSbom` checks one against the schema (a push validates before it stores).
   */
  sboms: Record<string, CycloneDxBom>;
  /** Per image, when pushing was asked for. A failed push stops the pushes after it; it is returned, never thrown. */
  pushes: Record<string, ImagePushOutcome>;
  images: Record<string, ImageRunRecord>;
  tags?: ResolvedTags;
  interrupted?: RunInterruption;
}

/** The result of `runImages`, from the scheduler's runs. */
export function runResult(plan: RunPlan, scheduled: ScheduleResult<ImageStageTypes>): RunImagesResult {
  const named = <V>(pick: (run: ImageRun<ImageStageTypes>) => V | undefined): Record<string, V> =>
    Object.fromEntries(scheduled.runs.flatMap((r) => (pick(r) === undefined ? [] : [[r.image.name, pick(r) as V]])));
  const pushes = named((r) => r.push && pushOutcome(r.push));
  const result = {
    report: withPushes(scheduled.report, pushes),
    builds: named((r) => r.built?.result),
    sboms: named((r) => r.facts?.sbom),
    pushes,
    images: named(imageRecord),
    ...(plan.tags && { tags: plan.tags }),
    ...(scheduled.interrupted && {
      interrupted: { ...scheduled.interrupted, pushed: pushedSoFar(pushes) },
    }),
  };
  return { ...result, report: plan.redactor.redactDeep(result.report) };
}

function pushOutcome(push: NonNullable<ImageRun<ImageStageTypes>['push']>): ImagePushOutcome {
  if (push.status === 'pushed') return { status: 'pushed', ...push.value };
  if (push.status === 'skipped') return push;
  // The push stage's error carries the tags that reached the registry before the failure; the cause is the failure.
  const { error } = push;
  const [cause, tags] = error instanceof PushStageError ? [error.cause as Error, [...error.tags]] : [error, []];
  return { status: 'failed', message: cause.message, error: cause, interrupted: push.interrupted, tags };
}

/** The report with each pushed (or not pushed) image's push section. */
function withPushes(report: GateReport, pushes: Record<string, ImagePushOutcome>): GateReport {
  if (Object.keys(pushes).length === 0) return report;
  return {
    ...report,
    images: report.images.map((image) => {
      const push = pushes[image.name];
      if (!push) return image;
      const stored = push.status === 'pushed' ? push.sbom : undefined;
      return { ...image, push: pushReport(push), ...(stored && image.sbom && { sbom: { ...image.sbom, stored } }) };
    }),
  };
}

function pushReport(push: ImagePushOutcome): PushReport {
  if (push.status === 'pushed') return { status: 'pushed', repository: push.repository, tags: push.tags };
  if (push.status === 'skipped') return { status: 'skipped', tags: [], message: push.reason };
  return { status: 'failed', tags: push.tags, message: push.message, ...(push.interrupted && { interrupted: true }) };
}

function imageRecord(run: ImageRun<ImageStageTypes>): ImageRunRecord {
  const { stopped } = run;
  return {
    ...(run.engine && { engine: engineLabel(run.engine) }),
    durations: run.durations,
    ...(stopped && {
      stopped: { stage: stopped.stage, message: stopped.error.message, interrupted: stopped.interrupted },
    }),
  };
}

function pushedSoFar(pushes: Record<string, ImagePushOutcome>): RunInterruption['pushed'] {
  return Object.entries(pushes).flatMap(([image, p]) =>
    p.status === 'skipped' || p.tags.length === 0 ? [] : [{ image, tags: p.tags }],
  );
}

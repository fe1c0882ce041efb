export { runImages } from './run-images.js';
export type { PushRequest, RunImagesOptions } from './run-options.js';
export type { ImagePushOutcome, ImageRunRecord, RunImagesResult, RunInterruption } from './run-result.js';
export { PIPELINE_STAGES, type PipelineEvent, type PipelineStage } from './pipeline-events.js';
export {
  scheduleImages,
  type ImageRun,
  type ImageStages,
  type Interruption,
  type MeasuredRun,
  type PushOutcome,
  type ScheduleOptions,
  type ScheduleResult,
  type StageContext,
  type StageTypes,
} from './schedule-images.js';

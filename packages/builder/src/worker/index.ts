export {
  buildWorkerImage,
  ServiceUsageError,
  SmokeTestError,
  type WorkerBuildOptions,
  type WorkerBuildResult,
  type WorkerEvent,
  type WorkerStage,
} from './build-worker-image.js';

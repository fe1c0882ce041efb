/**
 * @4pass/builder — build, inspect, gate and push container images through the Docker Engine API.
 * Read the whole job in pipeline/run-images.ts: config → context → build → inspect → budgets → tag/push → report.
 */
export * from './errors.js';
export * from './engine/index.js';
export * from './context/index.js';
export * from './build/index.js';
export * from './render/index.js';
export * from './config/index.js';
export * from './units/index.js';
export * from './secrets/index.js';
export { normalizeImagePath } from './paths/normalize-image-path.js';
export * from './references/index.js';
export * from './inspect/index.js';
export * from './budgets/index.js';
export * from './startup/index.js';
export * from './report/index.js';
export * from './push/index.js';
export * from './worker/index.js';
export * from './pipeline/index.js';

export { createPlainRenderer } from './plain-renderer.js';
export type { PlainRendererOptions } from './plain-renderer.js';
export { createTtyRenderer } from './tty-renderer.js';
export type { TtyRendererOptions, TtyStream } from './tty-renderer.js';
export { createRenderer } from './create-renderer.js';
export type { RendererOptions } from './create-renderer.js';
export { createPipelineRenderer } from './pipeline-renderer.js';
export type { PipelineRendererOptions } from './pipeline-renderer.js';

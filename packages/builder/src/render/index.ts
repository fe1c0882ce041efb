export { createPlainRenderer } from './plain-renderer.js';
export type { PlainRendererOptions } from './plain-renderer.js';

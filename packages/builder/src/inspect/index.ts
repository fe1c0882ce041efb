export * from './analyze-layers.js';
export * from './read-docker-save.js';
export * from './inspect-image.js';
export * from './inspect-errors.js';
export * from './layer-size-cache.js';
export * from './resolve-tree-path.js';

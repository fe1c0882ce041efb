export * from './analyze-layers.js';
// The layer tar helpers (listTar, decompress, layerEntryOf) stay inside the folder.
export {
  GzipSizeEstimator,
  readDockerSave,
  type ArchiveLayer,
  type DockerSaveContents,
  type DockerSaveManifestEntry,
  type ImageConfigFile,
  type LayerCompression,
  type ReadDockerSaveOptions,
} from './read-docker-save.js';
export * from './inspect-image.js';
export * from './inspect-errors.js';
export * from './layer-size-cache.js';
export * from './layer-file-contents.js';
export * from './python-distributions.js';
export * from './debian-packages.js';
export * from './image-contents.js';
export * from './list-layer.js';
export * from './registry-image.js';
export * from './registry-facts.js';

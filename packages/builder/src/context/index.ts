export { createBuildContext } from './create-build-context.js';
export type {
  BuildContext,
  BuildContextEntry,
  BuildContextOptions,
  ExtraDirEntry,
  ExtraEntry,
  ExtraFileEntry,
} from './create-build-context.js';
export { createDockerignoreMatcher, parseDockerignore } from './dockerignore.js';
export type { DockerignoreMatcher } from './dockerignore.js';

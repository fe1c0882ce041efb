export { TAG_PATTERN, isValidTag } from './tag-pattern.js';
export { parseRegistryHost, defaultRegistryScheme, type RegistryTarget } from './registry-host.js';

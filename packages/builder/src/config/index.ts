export * from './config-schema.js';
export * from './load-config.js';
export type { ConfigIssue } from './check-config.js';
export type { UnitKind } from './rule-schema.js';
export {
  resolveRegistryDestination,
  ecrHost,
  type RegistryDestination,
  type RegistrySettings,
} from './registry-settings.js';

/**
 * @4pass/builder/config — the light entry: images.config.json validated and the push destination checked, without
 * loading the engine, BuildKit or AWS code (the CLI reads its config before it imports the rest). Recorded in
 * packages/builder/api/builder-config.api.md.
 */
export { ConfigError } from '../errors/config-error.js';
export { RegistrySettingsError, UnknownImageError } from './config-errors.js';
export { parseEngineSpecs, type EngineSpec } from '../engine/engine-specs.js';
export { FourpassError } from '../errors/fourpass-error.js';
export { InvalidRepositoryError } from '../references/reference-errors.js';
export {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  parseConfig,
  withCacheOverrides,
  type LoadConfigOptions,
  type ParseConfigOptions,
} from './load-config.js';
export type {
  Budgets,
  EngineConfig,
  ImageConfig,
  ImagesConfig,
  NetworkConfig,
  ReadyProbe,
  RegistryConfig,
  SecretsConfig,
  StartupConfig,
  StructureConfig,
} from './config-types.js';
export type { GrowthRule, Rule, RuleLevel } from './rule-schema.js';
export type { ConfigIssue } from './check-config.js';
export type { GrowthLimit } from '../units/parse-units.js';
export {
  resolveRegistryDestination,
  resolveRegistryHost,
  type RegistryDestination,
  type RegistrySettings,
} from './registry-settings.js';

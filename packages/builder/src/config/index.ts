/**
 * @4pass/builder/config — the light entry: images.config.json validated and the push destination checked, without
 * loading the engine, BuildKit or AWS code (the CLI reads its config before it imports the rest). Recorded in
 * packages/builder/api/builder-config.api.md.
 */
export { ConfigError } from '../errors/config-error.js';
export { RegistrySettingsError } from './config-errors.js';
export { FourpassError } from '../errors/fourpass-error.js';
export { InvalidRepositoryError } from '../references/reference-errors.js';
export {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  parseConfig,
  type LoadConfigOptions,
  type ParseConfigOptions,
} from './load-config.js';
export {
  imagesConfigSchema,
  type Budgets,
  type GrowthRule,
  type ImageConfig,
  type ImagesConfig,
  type ImagesConfigInput,
  type NetworkConfig,
  type ReadyProbe,
  type RegistryConfig,
  type Rule,
  type RuleLevel,
  type SecretsConfig,
  type StartupConfig,
  type StructureConfig,
} from './config-schema.js';
export type { ConfigIssue } from './check-config.js';
export type { GrowthLimit } from '../units/parse-units.js';
export { resolveRegistryDestination, type RegistryDestination, type RegistrySettings } from './registry-settings.js';

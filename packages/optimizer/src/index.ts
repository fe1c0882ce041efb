/**
 * @4pass/optimizer — a pure, verified Python site-packages slimmer: a profile in, a slimmer directory or tar stream
 * out, with a report. Knows nothing of Docker or AWS.
 *
 * The public API, chosen name by name (no `export *`); everything else is internal and tests of internals import their
 * modules directly. The surface is recorded in packages/optimizer/api/optimizer.api.md (`pnpm api:check`).
 */
export {
  EmptyTarError,
  InvalidTarError,
  NotSitePackagesError,
  OptimizerError,
  ProfileError,
  type ProfileIssue,
} from './errors.js';
export {
  defaultProfile,
  parseProfile,
  profileSchema,
  type ParseProfileOptions,
  type Profile,
  type ProfileInput,
} from './profile.js';
export { optimizeDirectory, planDirectory, type OptimizeDirectoryOptions } from './optimize-directory.js';
export { optimizeTar, type OptimizeTarOptions } from './optimize-tar.js';
export {
  RULE_NAMES,
  type DistributionReport,
  type OptimizeReport,
  type Plan,
  type RemovalRule,
  type RewriteRule,
  type RuleName,
  type RuleStats,
  type Totals,
} from './plan.js';
export type { Layout } from './tree.js';
export { formatReport } from './format-report.js';
export { generateSmokeProgram, type SmokeProgramOptions } from './smoke-program.js';
export {
  checkServiceUsage,
  scanSourceForServices,
  type ServiceCall,
  type ServiceViolation,
  type SourceFile,
} from './service-usage.js';

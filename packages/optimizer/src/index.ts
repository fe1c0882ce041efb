/**
 * @4pass/optimizer — a pure, verified Python site-packages slimmer: a profile in, a slimmer directory or tar stream
 * out, with a report. Knows nothing of Docker or AWS.
 *
 * The public API, chosen name by name (no `export *`); everything else is internal and tests of internals import their
 * modules directly. The surface is recorded in packages/optimizer/api/optimizer.api.md (`pnpm api:check`).
 */
export {
  ApplyError,
  EmptyTarError,
  InvalidTarError,
  MetadataError,
  NotSitePackagesError,
  OptimizerError,
  ProfileError,
  SizeLimitError,
  SystemDirectoryError,
  TreeAccessError,
  UnsafeMemberError,
  UnsupportedNameError,
  type ProfileIssue,
} from './shared/errors.js';
export { LIMITS } from './shared/limits.js';
export {
  defaultProfile,
  parseProfile,
  profileSchema,
  type ParseProfileOptions,
  type Profile,
  type ProfileInput,
} from './profile/profile.js';
export { optimizeDirectory, planDirectory, type OptimizeDirectoryOptions } from './optimize/optimize-directory.js';
export { optimizeTar, type OptimizeTarOptions } from './optimize/optimize-tar.js';
export type { DistributionReport, OptimizeReport, RuleStats, SkippedPath, Totals } from './report/report.js';
export type { DroppedMember } from './archive/member-names.js';
export type { OrphanRemoval } from './distributions/distributions.js';
export type { AwsServicesReport } from './rules/rule.js';
export type { Plan } from './plan/plan.js';
export { RULE_NAMES, type RemovalRule, type RewriteRule, type RuleName } from './rules/rules.js';
export type { EntryType, Layout, TreeEntry } from './tree/tree.js';
export { formatReport } from './report/format-report.js';
export { generateSmokeProgram, type SmokeProgramOptions } from './checks/smoke-program.js';
export {
  checkServiceUsage,
  scanSourceForServices,
  type ServiceCall,
  type ServiceViolation,
  type SourceFile,
} from './checks/service-usage.js';
export { closureDirectory, closureTar, type ClosureTarOptions } from './closure/closure.js';
export {
  DEFAULT_DLOPEN,
  DEFAULT_STDLIB_EXCLUDE,
  closureSchema,
  parseClosureOptions,
  type ClosureOptions,
  type ClosureOptionsInput,
} from './profile/closure-options.js';
export type { ClosureReport } from './closure/plan-closure.js';
export type { PackageRecord } from './closure/package-records.js';
export type { ClosurePart } from './closure/claims.js';
export type { ClosureLibrary, LibraryVia } from './closure/elf-closure.js';
export type { DroppedImport, DroppedModule } from './closure/stdlib.js';
export { ClosureError } from './closure/closure-error.js';
export { MAX_SYMLINKS, walkPath, type PathNode } from './closure/walk-path.js';
export { formatClosureReport } from './closure/format-closure-report.js';
export { STAGE_REPORT_PREFIX } from './report/stage-report.js';

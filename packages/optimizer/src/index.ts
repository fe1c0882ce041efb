export * from './errors.js';
export * from './profile.js';
export type { Layout, TreeEntry, EntryType } from './tree.js';
export type { OptimizeReport, RuleStats, Totals, DistributionReport } from './report.js';
export type { Plan } from './plan.js';
export type { RuleName, RemovalRule, RewriteRule } from './rules/rules.js';
export { RULE_NAMES } from './rules/rules.js';
export * from './optimize-directory.js';
export * from './optimize-tar.js';
export * from './smoke-program.js';
export * from './service-usage.js';
export * from './format-report.js';
export { closureTar, closureDirectory, type ClosureTarOptions } from './closure/closure.js';
export {
  parseClosureOptions,
  DEFAULT_STDLIB_EXCLUDE,
  DEFAULT_DLOPEN,
  type ClosureOptions,
  type ClosureOptionsInput,
} from './closure/closure-options.js';
export type { ClosureReport } from './closure/plan-closure.js';
export type { ClosurePart } from './closure/claims.js';
export type { ClosureLibrary, LibraryVia } from './closure/elf-closure.js';
export type { DroppedModule, DroppedImport } from './closure/stdlib.js';
export { ClosureError } from './closure/closure-error.js';
export { formatClosureReport } from './closure/format-closure-report.js';

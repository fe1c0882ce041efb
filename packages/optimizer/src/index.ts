export * from './errors.js';
export * from './profile.js';
export type { Layout, TreeEntry, EntryType } from './tree.js';
export type {
  OptimizeReport,
  RuleName,
  RemovalRule,
  RewriteRule,
  RuleStats,
  Totals,
  DistributionReport,
  Plan,
} from './plan.js';
export { RULE_NAMES } from './plan.js';
export * from './optimize-directory.js';
export * from './optimize-tar.js';
export * from './smoke-program.js';
export * from './service-usage.js';
export * from './format-report.js';

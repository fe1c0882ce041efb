import type { DroppedMember } from '../archive/member-names.js';
import type { OrphanRemoval } from '../distributions/distributions.js';
import type { AwsServicesReport } from '../rules/rule.js';
import type { RuleName } from '../rules/rules.js';
import type { Layout } from '../tree/tree.js';

/** Bytes of regular files, and count of non-directory entries (files, symlinks, others). */
export interface Totals {
  bytes: number;
  files: number;
}

/** What one rule did: entries removed (bytes, files) or files rewritten (bytes saved, `rewritten`). */
export interface RuleStats extends Totals {
  rewritten: number;
}

/** One installed distribution, before and after. */
export interface DistributionReport {
  name: string;
  version: string;
  /** The dist-info directory, relative to the input root. */
  distInfo: string;
  action: 'kept' | 'removed';
  before: Totals;
  after: Totals;
  /** Bytes/files this distribution lost per rule (rewrites count saved bytes, no files). */
  removedByRule: Partial<Record<RuleName, Totals>>;
}

/** A path a RECORD, a dist-info or a rule named for removal that was left alone, and why. */
export interface SkippedPath {
  /** As the source wrote it (a RECORD row, a top_level.txt name, a script name) or the tree path. */
  path: string;
  /** The distribution (`name version`) or the rule that asked. */
  source: string;
  /** Why it stays (`outside site-packages and bin/`, `also listed by the RECORD of …, which is kept`, …). */
  reason: string;
}

/** Result of a transform (or of a dry run): the same shape for directories and tar streams. */
export interface OptimizeReport {
  dryRun: boolean;
  layout: Layout;
  before: Totals;
  after: Totals;
  rules: Record<RuleName, RuleStats>;
  /** Sorted by name; files no RECORD claims are grouped under `(unowned)`. */
  distributions: DistributionReport[];
  /** Distributions the profile asked to remove that are not installed. */
  distributionsNotPresent: string[];
  /** Distributions removed because only removed distributions required them (`removeOrphans`). */
  orphansRemoved: OrphanRemoval[];
  services: AwsServicesReport;
  /** Top-level importable modules left in site-packages. */
  modules: string[];
  /** Paths named for removal but left alone: outside site-packages, protected, or owned by a kept distribution. */
  skipped: SkippedPath[];
  /**
   * Rewritten files that had other names (hard links, e.g. into an installer's cache): each was written as a new file
   * renamed over the old name, so the other names keep their content.
   */
  hardLinksSplit: string[];
  /** Archive members left out because they would land outside the root (tar input with `dropUnsafeMembers`). */
  droppedMembers: DroppedMember[];
  warnings: string[];
}

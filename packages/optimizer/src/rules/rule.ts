import type { Dist } from '../distributions/distributions.js';
import type { Profile } from '../profile/profile.js';
import type { TreeIndex } from '../tree/tree-index.js';
import type { Layout } from '../tree/tree.js';

/** `remove` rules take paths out of the tree; `rewrite` rules replace a file's content with a smaller one. */
export type RuleKind = 'remove' | 'rewrite';

/** The report's AWS section, filled by the `aws-*` rules. */
export interface AwsServicesReport {
  /** Whether botocore/data exists in the tree (otherwise no AWS rule applied). */
  botocore: boolean;
  kept: string[];
  removedCount: number;
  /** Keys kept in endpoints.json, when it was pruned. */
  endpointPrefixes: string[];
  /** Credential-chain services removed because `aws.keepCredentialServices` is off, and what that breaks. */
  credentialServicesLost: { service: string; impact: string }[];
}

/** What a rule sees: the tree, the profile, the distributions, what earlier rules did, and how to act. */
export interface RuleContext {
  readonly index: TreeIndex;
  readonly layout: Layout;
  readonly profile: Profile;
  /** Contents of the files `isMetadataFile` selects. */
  readonly content: ReadonlyMap<string, Buffer>;
  /** For .py files that import a test module: the dotted names imported. */
  readonly testImports: ReadonlyMap<string, string[]>;
  /** The distributions the profile removes (named, or orphaned by those), and the ones it keeps. */
  readonly removedDists: readonly Dist[];
  readonly keptDists: readonly Dist[];
  /** The dist-infos that own each top-level name. */
  readonly topOwners: ReadonlyMap<string, ReadonlySet<string>>;
  /** Paths removed so far, and the rule that removed each. */
  readonly removed: ReadonlyMap<string, string>;
  readonly services: AwsServicesReport;
  /** Whether a path is in the tree (any entry, or a directory implied by a deeper path). */
  has(path: string): boolean;
  /**
   * Remove a path and everything below it, for this rule; a directory goes only when everything below it does. Paths
   * already removed keep their rule; absent ones are ignored. Protected paths (see `protectedReason`) and those `keep`
   * gives a reason for stay, reported as skipped. Returns whether the path is now removed.
   */
  remove(path: string, keep?: (path: string) => string | undefined): boolean;
  /** Replace a file's content, for this rule. */
  rewrite(path: string, content: Buffer): void;
  /** Add a warning to the report. */
  warn(message: string): void;
  /** Report a path that was asked for but not removed (`source`: a distribution or a rule), and why. */
  skip(path: string, source: string, reason: string): void;
}

/**
 * One step of the plan. Rules run in the order of `RULES`; each sees what the rules before it removed. The shared
 * accounting (bytes and files per rule and per distribution) is computed from the marks afterwards, so a rule only
 * decides.
 */
export interface Rule<N extends string = string, K extends RuleKind = RuleKind> {
  /** The name the report credits. */
  readonly name: N;
  readonly kind: K;
  apply(ctx: RuleContext): void;
}

/** Declare a rule, keeping its name and kind as literal types (the report's rule names derive from them). */
export function defineRule<const N extends string, const K extends RuleKind>(rule: Rule<N, K>): Rule<N, K> {
  return rule;
}

import { awsEndpointsPrune } from './aws-endpoints-prune.js';
import { awsExamples } from './aws-examples.js';
import { awsResourceModels } from './aws-resource-models.js';
import { awsServiceData } from './aws-service-data.js';
import { emptyDirectory } from './empty-directory.js';
import { recordRewrite } from './record-rewrite.js';
import { removeDistribution } from './remove-distribution.js';
import { staleBytecode } from './stale-bytecode.js';
import { stripDocs } from './strip-docs.js';
import { stripTests } from './strip-tests.js';

/**
 * Every rule, in the order they run (each sees what the ones before it removed) and the reports list them.
 * A new rule is one module (`defineRule`) and one line here.
 */
export const RULES = [
  removeDistribution,
  awsServiceData,
  awsExamples,
  awsResourceModels,
  awsEndpointsPrune,
  stripDocs,
  stripTests,
  staleBytecode,
  emptyDirectory,
  recordRewrite,
] as const;

/** Rules that remove entries. */
export type RemovalRule =
  | 'remove-distribution'
  | 'aws-service-data'
  | 'aws-examples'
  | 'aws-resource-models'
  | 'strip-docs'
  | 'strip-tests'
  | 'stale-bytecode'
  | 'empty-directory';
/** Rules that rewrite a file smaller. */
export type RewriteRule = 'aws-endpoints-prune' | 'record-rewrite';
/** Every rule that appears in a report. */
export type RuleName = RemovalRule | RewriteRule;

// The names above are spelled out so the public types (and the API report) show them; the compiler holds them to RULES.
type AnyRule = (typeof RULES)[number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesAgree: Same<RemovalRule, Extract<AnyRule, { kind: 'remove' }>['name']> &
  Same<RewriteRule, Extract<AnyRule, { kind: 'rewrite' }>['name']> = true;
void namesAgree;

/** The rule names in report order. */
export const RULE_NAMES: readonly RuleName[] = RULES.map((r) => r.name);

import type { LifecyclePolicy, LifecycleRule } from '../../../packages/builder/src/push/lifecycle-policy.js';

/**
 * An ECR lifecycle policy evaluator for the subset of rules we use (`expire` with `imageCountMoreThan` or
 * `sinceImagePushed`, tagged / untagged / any), written from ECR's user guide ("Lifecycle policy evaluation rules",
 * "Lifecycle policy properties" and the examples):
 * - all rules are evaluated, then applied in `rulePriority` order (lowest first);
 * - an image is expired by exactly one or zero rules;
 * - an image that matches the tag selection of a rule cannot be expired by a rule with a lower priority;
 * - rules never mark images marked by higher priority rules, but still count them as if they had not been expired;
 * - a tag list selects an image when every entry matches at least one of its tags (`prod*` wildcards, prefixes);
 * - `imageCountMoreThan` sorts by push time, youngest first, and expires every image beyond the count;
 *   `sinceImagePushed` expires every image pushed more than `countNumber` days ago;
 * - (OCI 1.1 referrers) an artifact whose `subject` image is expired by a rule is deleted with it.
 */
export interface StoredImage {
  /** Manifest digest (or any unique name, in tests). */
  id: string;
  tags: string[];
  pushedAt: Date;
  /** The image this artifact refers to (OCI `subject`). */
  subject?: string;
}

const DAY_MS = 86_400_000;

/** The documented constraints a policy must meet for ECR to accept it; empty when it does. */
export function policyProblems(policy: LifecyclePolicy): string[] {
  const problems: string[] = [];
  const priorities = policy.rules.map((r) => r.rulePriority);
  if (new Set(priorities).size !== priorities.length) problems.push('rulePriority values must be unique');
  const highest = Math.max(...priorities);
  for (const rule of policy.rules) problems.push(...ruleProblems(rule, highest));
  if (policy.rules.filter((r) => r.selection.tagStatus === 'untagged').length > 1)
    problems.push('only one rule may select untagged images');
  const lists = policy.rules.map((r) =>
    JSON.stringify(r.selection.tagPatternList ?? r.selection.tagPrefixList ?? null),
  );
  if (new Set(lists.filter((l) => l !== 'null')).size !== lists.filter((l) => l !== 'null').length)
    problems.push('the rules must contain a unique set of tag prefixes');
  return problems;
}

function ruleProblems(rule: LifecycleRule, highest: number): string[] {
  const at = `rule ${rule.rulePriority}`;
  const s = rule.selection;
  const problems: string[] = [];
  const lists = [s.tagPatternList, s.tagPrefixList].filter((l) => l !== undefined);
  if (s.tagStatus === 'tagged' && (lists.length !== 1 || lists[0]?.length === 0))
    problems.push(`${at}: tagged needs tagPatternList or tagPrefixList (not both)`);
  if (s.tagStatus !== 'tagged' && lists.length) problems.push(`${at}: only tagged rules take a tag list`);
  if (s.tagStatus === 'any' && rule.rulePriority !== highest)
    problems.push(`${at}: any must have the highest priority`);
  if (!Number.isInteger(s.countNumber) || s.countNumber < 1)
    problems.push(`${at}: countNumber must be a positive integer`);
  if (s.countType === 'sinceImagePushed' && s.countUnit !== 'days') problems.push(`${at}: sinceImagePushed needs days`);
  if (s.countType === 'imageCountMoreThan' && s.countUnit !== undefined) problems.push(`${at}: no countUnit here`);
  for (const pattern of s.tagPatternList ?? [])
    if ((pattern.match(/\*/g) ?? []).length > 4) problems.push(`${at}: at most four wildcards in "${pattern}"`);
  if (rule.action.type !== 'expire') problems.push(`${at}: only expire is evaluated here`);
  return problems;
}

/** Whether the rule's tag selection takes the image. */
export function selects(rule: LifecycleRule, image: StoredImage): boolean {
  const s = rule.selection;
  if (s.tagStatus === 'any') return true;
  if (s.tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  const matchers = s.tagPatternList
    ? s.tagPatternList.map((p) => new RegExp(`^${p.split('*').map(escape).join('.*')}$`))
    : (s.tagPrefixList ?? []).map((p) => new RegExp(`^${escape(p)}`));
  return matchers.every((m) => image.tags.some((tag) => m.test(tag)));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The images the rule would expire on its own: everything it selects beyond the count, or older than the age. */
function candidates(rule: LifecycleRule, images: StoredImage[], now: Date): Set<string> {
  const selected = images.filter((i) => selects(rule, i));
  const { countType, countNumber } = rule.selection;
  if (countType === 'sinceImagePushed')
    return new Set(
      selected.filter((i) => now.getTime() - i.pushedAt.getTime() > countNumber * DAY_MS).map((i) => i.id),
    );
  const youngestFirst = [...selected].sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime());
  return new Set(youngestFirst.slice(countNumber).map((i) => i.id));
}

/**
 * The ids the policy expires, each with the priority of the rule that expired it (0: deleted with its subject).
 * @throws {Error} the policy breaks a documented constraint.
 */
export function evaluatePolicy(policy: LifecyclePolicy, images: StoredImage[], now: Date): Map<string, number> {
  const problems = policyProblems(policy);
  if (problems.length) throw new Error(problems.join('; '));
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const marked = new Map(rules.map((r) => [r.rulePriority, candidates(r, images, now)]));
  const expired = new Map<string, number>();
  for (const image of images) {
    // The first rule whose selection takes the image decides: lower rules can no longer expire it.
    const first = rules.find((r) => selects(r, image));
    if (first && marked.get(first.rulePriority)?.has(image.id)) expired.set(image.id, first.rulePriority);
  }
  for (const image of images) if (image.subject && expired.has(image.subject)) expired.set(image.id, 0);
  return expired;
}

import { UNOWNED, type Dist } from '../distributions/distributions.js';
import type { DistributionReport, RuleStats, Totals } from '../report/report.js';
import { RULE_NAMES, type RemovalRule, type RewriteRule, type RuleName } from '../rules/rules.js';
import type { TreeIndex } from '../tree/tree-index.js';

/** One owner's (dist-info's) bytes before and after, and what each rule took from it. */
interface OwnerStats {
  before: Totals;
  after: Totals;
  byRule: Partial<Record<RuleName, Totals>>;
}

/** Totals of the whole tree and per rule and per owner, from the marks the rules left. */
export interface Accounting {
  before: Totals;
  after: Totals;
  rules: Record<RuleName, RuleStats>;
  perOwner: Map<string, OwnerStats>;
}

const add = (t: Totals, bytes: number, files: number): void => {
  t.bytes += bytes;
  t.files += files;
};

/** Count every non-directory entry once: removed (by its rule), rewritten (saved bytes) or kept as it is. */
export function account(
  index: TreeIndex,
  removed: ReadonlyMap<string, RemovalRule>,
  rewrites: ReadonlyMap<string, { rule: RewriteRule; content: Buffer }>,
  ownerOf: (path: string) => string,
  keptSize?: (path: string) => number | undefined,
): Accounting {
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, { bytes: 0, files: 0, rewritten: 0 }])) as Record<
    RuleName,
    RuleStats
  >;
  const perOwner = new Map<string, OwnerStats>();
  const ownerStats = (key: string): OwnerStats => {
    let s = perOwner.get(key);
    if (!s) perOwner.set(key, (s = { before: { bytes: 0, files: 0 }, after: { bytes: 0, files: 0 }, byRule: {} }));
    return s;
  };
  const acc: Accounting = { before: { bytes: 0, files: 0 }, after: { bytes: 0, files: 0 }, rules, perOwner };
  for (const [p, e] of index.entries) {
    if (e.type === 'directory') continue;
    const owner = ownerStats(ownerOf(p));
    add(acc.before, e.size, 1);
    add(owner.before, e.size, 1);
    const rule = removed.get(p);
    if (rule) {
      add(rules[rule], e.size, 1);
      add((owner.byRule[rule] ??= { bytes: 0, files: 0 }), e.size, 1);
      continue;
    }
    const rw = rewrites.get(p);
    const size = rw ? rw.content.length : (keptSize?.(p) ?? e.size);
    if (rw) {
      add(rules[rw.rule], e.size - size, 0);
      rules[rw.rule].rewritten++;
      add((owner.byRule[rw.rule] ??= { bytes: 0, files: 0 }), e.size - size, 0);
    }
    add(acc.after, size, 1);
    add(owner.after, size, 1);
  }
  return acc;
}

/** The report's per-distribution rows, with files no RECORD claims last as `(unowned)`. */
export function distributionReports(
  dists: readonly Dist[],
  removedKeys: ReadonlySet<string>,
  perOwner: ReadonlyMap<string, OwnerStats>,
): DistributionReport[] {
  const row = (name: string, version: string, distInfo: string, action: DistributionReport['action']) => {
    const s = perOwner.get(distInfo === '' ? UNOWNED : distInfo);
    const zero = (): Totals => ({ bytes: 0, files: 0 });
    return {
      name,
      version,
      distInfo,
      action,
      before: s?.before ?? zero(),
      after: s?.after ?? zero(),
      removedByRule: s?.byRule ?? {},
    };
  };
  const rows: DistributionReport[] = dists.map((d) =>
    row(d.name, d.version, d.key, removedKeys.has(d.key) ? 'removed' : 'kept'),
  );
  if (perOwner.has(UNOWNED)) rows.push(row(UNOWNED, '', '', 'kept'));
  return rows;
}

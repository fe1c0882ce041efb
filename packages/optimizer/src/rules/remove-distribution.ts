import type { Dist } from '../distributions.js';
import { joinPath } from '../tree.js';
import { defineRule, type RuleContext } from './rule.js';

function removeOne(ctx: RuleContext, d: Dist, removedKeys: ReadonlySet<string>): void {
  const { index, layout } = ctx;
  ctx.remove(d.key);
  for (const p of d.resolved) if (p !== undefined && index.entries.has(p)) ctx.remove(p);
  for (const t of d.topLevel) {
    const owners = ctx.topOwners.get(t) ?? new Set();
    // A namespace shared with a kept distribution: only its RECORD files went.
    if ([...owners].some((o) => !removedKeys.has(o))) continue;
    ctx.remove(joinPath(layout.sitePackages, t));
    ctx.remove(joinPath(layout.sitePackages, `${t}.py`));
  }
  if (layout.binDir) for (const s of d.scripts) ctx.remove(joinPath(layout.binDir, s));
}

/** The profile's `remove` distributions (and their orphans): files, package dirs, dist-info, console scripts. */
export const removeDistribution = defineRule({
  name: 'remove-distribution',
  kind: 'remove',
  apply(ctx) {
    const removedKeys = new Set(ctx.removedDists.map((d) => d.key));
    for (const d of ctx.removedDists) removeOne(ctx, d, removedKeys);
    for (const d of ctx.keptDists) {
      const lost = d.requires.filter((r) => ctx.removedDists.some((x) => x.norm === r));
      if (lost.length > 0) ctx.warn(`${d.name} ${d.version} requires ${lost.join(', ')}, which the profile removes`);
    }
  },
});

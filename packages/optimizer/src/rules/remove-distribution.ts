import type { Dist } from '../distributions/distributions.js';
import { protectedReason } from '../tree/protected-paths.js';
import { isWithin } from '../tree/tree-index.js';
import { joinPath } from '../tree/tree.js';
import { defineRule, type RuleContext } from './rule.js';

/** A top_level.txt name or a script name: one path segment, not `.` or `..`. */
const PLAIN_NAME = /^(?!\.\.?$)[^/\\\0]+$/;

/** The paths the kept distributions' RECORDs list (and their own dist-info directories), with the owner. */
function keptClaims(ctx: RuleContext): { listed: Map<string, string>; distInfos: Map<string, string> } {
  const listed = new Map<string, string>();
  const distInfos = new Map<string, string>();
  for (const k of ctx.keptDists) {
    const who = `${k.name} ${k.version}`;
    distInfos.set(k.key, who);
    for (const p of k.resolved) if (p !== undefined && !listed.has(p)) listed.set(p, who);
  }
  return { listed, distInfos };
}

type Claims = ReturnType<typeof keptClaims>;

/** Why a path owned by a removed distribution stays: a kept distribution lists it, or it is in a kept dist-info. */
function keptReason(claims: Claims, sp: string, p: string): string | undefined {
  const owner = claims.listed.get(p);
  if (owner !== undefined) return `also listed by the RECORD of ${owner}, which is kept`;
  if (!p.includes('.dist-info') || !isWithin(p, sp)) return undefined;
  const top = p.slice(sp === '' ? 0 : sp.length + 1).split('/', 1)[0] ?? '';
  const who = claims.distInfos.get(joinPath(sp, top));
  return who === undefined ? undefined : `in the dist-info of ${who}, which is kept`;
}

/** Why a RECORD row is not removed; `null` for a row naming nothing in the tree (normal: never written). */
function rowReason(ctx: RuleContext, claims: Claims, p: string | undefined): string | null | undefined {
  if (p === undefined) return 'resolves outside the tree';
  const where = ` (resolves to ${p || '.'})`;
  const protectedWhy = protectedReason(ctx.layout, p);
  if (protectedWhy !== undefined) return protectedWhy + where;
  if (!ctx.has(p)) return null;
  if (ctx.index.dirs.has(p)) return `a directory${where}; RECORD lists files`;
  return keptReason(claims, ctx.layout.sitePackages, p);
}

function removeOne(ctx: RuleContext, d: Dist, removedKeys: ReadonlySet<string>, claims: Claims): void {
  const { layout } = ctx;
  const source = `${d.name} ${d.version}`;
  const keep = (p: string): string | undefined => keptReason(claims, layout.sitePackages, p);
  d.rows.forEach((row, i) => {
    const p = d.resolved[i];
    const why = rowReason(ctx, claims, p);
    if (why === undefined && p !== undefined) ctx.remove(p);
    else if (why !== null && why !== undefined) ctx.skip(row.path, source, why);
  });
  for (const t of d.topLevel) {
    if (!PLAIN_NAME.test(t)) {
      ctx.skip(t, source, 'not a module name (top_level.txt)');
      continue;
    }
    const owners = ctx.topOwners.get(t) ?? new Set();
    // A namespace shared with a kept distribution: only its RECORD files went.
    if ([...owners].some((o) => !removedKeys.has(o))) continue;
    ctx.remove(joinPath(layout.sitePackages, t), keep);
    ctx.remove(joinPath(layout.sitePackages, `${t}.py`), keep);
  }
  for (const s of layout.binDir !== undefined ? d.scripts : []) {
    if (PLAIN_NAME.test(s)) ctx.remove(joinPath(layout.binDir ?? '', s), keep);
    else ctx.skip(s, source, 'not a script name (entry_points.txt)');
  }
  ctx.remove(d.key, keep);
}

/**
 * The profile's `remove` distributions (and their orphans): files, package dirs, dist-info, console scripts. Ownership
 * is checked, not trusted: a RECORD row goes only when it names a file inside site-packages or the environment's bin/
 * that no kept distribution lists; anything else is reported as skipped.
 */
export const removeDistribution = defineRule({
  name: 'remove-distribution',
  kind: 'remove',
  apply(ctx) {
    const removedKeys = new Set(ctx.removedDists.map((d) => d.key));
    const claims = keptClaims(ctx);
    for (const d of ctx.removedDists) removeOne(ctx, d, removedKeys, claims);
    for (const d of ctx.keptDists) {
      const lost = d.requires.filter((r) => ctx.removedDists.some((x) => x.norm === r));
      if (lost.length > 0) ctx.warn(`${d.name} ${d.version} requires ${lost.join(', ')}, which the profile removes`);
    }
  },
});

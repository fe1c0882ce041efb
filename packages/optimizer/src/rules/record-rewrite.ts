import { parentOf } from '../tree/tree.js';
import { defineRule, type RuleContext } from './rule.js';

/**
 * Whether a RECORD row's path is gone after this run: removed (or below a removed entry), or not in the tree at all
 * (a run stopped before its rewrites removed it) unless a symlink kept on its way leads to it.
 */
function gone(ctx: RuleContext, p: string): boolean {
  if (ctx.removed.has(p)) return true;
  if (ctx.has(p)) return false;
  for (let d = parentOf(p); d !== ''; d = parentOf(d)) {
    if (ctx.removed.has(d)) return true;
    if (ctx.index.entries.get(d)?.type === 'symlink') return false;
  }
  return true;
}

/**
 * The RECORD of each kept distribution, listing only what is left: rows of removed paths go, and rows of paths not in
 * the tree (a run stopped before its rewrites removed them; the next run finishes the RECORD as that run would have).
 */
export const recordRewrite = defineRule({
  name: 'record-rewrite',
  kind: 'rewrite',
  apply(ctx) {
    for (const d of ctx.keptDists) {
      const record = `${d.key}/RECORD`;
      if (!ctx.content.get(record)) continue;
      const keptLines = d.rows.filter((_, i) => {
        const p = d.resolved[i];
        return p === undefined || !gone(ctx, p);
      });
      if (keptLines.length !== d.rows.length) {
        ctx.rewrite(record, Buffer.from(keptLines.map((r) => r.line + '\n').join('')));
      }
    }
  },
});

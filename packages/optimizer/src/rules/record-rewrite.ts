import { defineRule } from './rule.js';

/** The RECORD of each kept distribution, listing only what is left. */
export const recordRewrite = defineRule({
  name: 'record-rewrite',
  kind: 'rewrite',
  apply(ctx) {
    for (const d of ctx.keptDists) {
      const record = `${d.key}/RECORD`;
      if (!ctx.content.get(record)) continue;
      const keptLines = d.rows.filter((_, i) => {
        const p = d.resolved[i];
        return p === undefined || !ctx.removed.has(p);
      });
      if (keptLines.length !== d.rows.length) {
        ctx.rewrite(record, Buffer.from(keptLines.map((r) => r.line + '\n').join('')));
      }
    }
  },
});

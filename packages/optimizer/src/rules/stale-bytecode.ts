import { isWithin } from '../tree/tree-index.js';
import { baseName, joinPath, parentOf, parseBytecodeName } from '../tree/tree.js';
import { defineRule } from './rule.js';

/** `__pycache__` bytecode whose source is gone (or removed), or that another interpreter wrote. */
export const staleBytecode = defineRule({
  name: 'stale-bytecode',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.profile.strip.staleBytecode) return;
    const { index, layout, removed } = ctx;
    const tag = ctx.profile.pythonTag ?? layout.pythonTag;
    for (const [p, e] of index.entries) {
      if (e.type !== 'file' || removed.has(p) || !p.endsWith('.pyc')) continue;
      if (!isWithin(p, layout.sitePackages) && !(layout.binDir !== undefined && isWithin(p, layout.binDir))) continue;
      const dir = parentOf(p);
      if (baseName(dir) !== '__pycache__') continue; // a sourceless .pyc next to nothing is an importable module
      const parsed = parseBytecodeName(baseName(p));
      if (!parsed) continue;
      const source = joinPath(parentOf(dir), `${parsed.module}.py`);
      const sourceOk = index.entries.has(source) && !removed.has(source);
      if (!sourceOk || (tag !== undefined && parsed.tag !== tag)) ctx.remove(p);
    }
  },
});

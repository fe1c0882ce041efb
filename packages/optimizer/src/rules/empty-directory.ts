import { parentOf } from '../tree.js';
import { defineRule } from './rule.js';

function depth(p: string): number {
  let n = 0;
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) n++;
  return n;
}

/** Directories the rules before emptied (never site-packages, its parents, the venv root or the scripts dir). */
export const emptyDirectory = defineRule({
  name: 'empty-directory',
  kind: 'remove',
  apply(ctx) {
    const { index, layout, removed } = ctx;
    const protectedDirs = new Set<string>([layout.sitePackages, layout.binDir ?? '', layout.venvRoot ?? '']);
    for (let p = layout.sitePackages; p !== ''; p = parentOf(p)) protectedDirs.add(p);
    const deepestFirst = [...index.dirs].map((d) => ({ d, n: depth(d) })).sort((a, b) => b.n - a.n);
    for (const { d } of deepestFirst) {
      if (removed.has(d) || protectedDirs.has(d)) continue;
      const kids = index.children.get(d) ?? [];
      if (kids.length > 0 && kids.every((k) => removed.has(k))) ctx.remove(d);
    }
  },
});

import { isWithin } from '../tree/tree-index.js';
import { defineRule } from './rule.js';

function depth(p: string): number {
  let n = 0;
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) n++;
  return n;
}

/**
 * Directories inside site-packages or bin/ that the rules before emptied, or that are empty already (a run that
 * stopped between the last unlink and the rmdir leaves one: the rerun finishes it). Never a dist-info directory, nor
 * site-packages, its parents or bin/ themselves (see `protectedReason`).
 */
export const emptyDirectory = defineRule({
  name: 'empty-directory',
  kind: 'remove',
  apply(ctx) {
    const { index, layout, removed } = ctx;
    const inside = (d: string): boolean =>
      d !== layout.sitePackages &&
      d !== layout.binDir &&
      (isWithin(d, layout.sitePackages) || (layout.binDir !== undefined && isWithin(d, layout.binDir)));
    const candidates = [...index.dirs].filter((d) => inside(d) && !d.endsWith('.dist-info') && !removed.has(d));
    const deepestFirst = candidates.map((d) => ({ d, n: depth(d) })).sort((a, b) => b.n - a.n);
    for (const { d } of deepestFirst) {
      if ((index.children.get(d) ?? []).every((k) => removed.has(k))) ctx.remove(d);
    }
  },
});

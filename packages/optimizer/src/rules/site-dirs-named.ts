import { isWithin } from '../tree/tree-index.js';
import { baseName } from '../tree/tree.js';
import type { RuleContext } from './rule.js';

/**
 * Directories inside site-packages named one of `names`, sorted (a parent before its children), outside dist-info
 * and the scripts directory. Callers check `ctx.removed` as they go: removing one removes its subdirectories.
 */
export function siteDirsNamed(ctx: RuleContext, names: readonly string[]): string[] {
  const sp = ctx.layout.sitePackages;
  const out: string[] = [];
  for (const d of ctx.index.dirs) {
    if (d === sp || !isWithin(d, sp) || d === ctx.layout.binDir) continue;
    if (!names.includes(baseName(d)) || d.slice(sp.length).includes('.dist-info')) continue;
    out.push(d);
  }
  return out.sort();
}

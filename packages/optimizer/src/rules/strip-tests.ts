import { isPackage, isWithin } from '../tree-index.js';
import { defineRule, type RuleContext } from './rule.js';
import { siteDirsNamed } from './site-dirs-named.js';

/** The first importer of each imported test module name. */
function firstImporters(ctx: RuleContext): Map<string, string> {
  const importers = new Map<string, string>();
  for (const [file, names] of ctx.testImports) for (const n of names) if (!importers.has(n)) importers.set(n, file);
  return importers;
}

/** A kept file outside `dir` that imports the package at `dir` (or a module in it), if any. */
function importerOf(
  ctx: RuleContext,
  dir: string,
  importers: ReadonlyMap<string, string>,
): { module: string; file: string } | undefined {
  const sp = ctx.layout.sitePackages;
  const module = dir.slice(sp === '' ? 0 : sp.length + 1).replaceAll('/', '.');
  for (const [n, file] of importers) {
    if ((n === module || n.startsWith(module + '.')) && !isWithin(file, dir) && !ctx.removed.has(file)) {
      return { module, file };
    }
  }
  return undefined;
}

/** `tests` / `test` directories, except a test package that kept code imports (kept, with a warning). */
export const stripTests = defineRule({
  name: 'strip-tests',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.profile.strip.tests) return;
    const importers = firstImporters(ctx);
    for (const d of siteDirsNamed(ctx, ['tests', 'test'])) {
      if (ctx.removed.has(d)) continue;
      const importer = isPackage(ctx.index, d) ? importerOf(ctx, d, importers) : undefined;
      if (importer) ctx.warn(`kept ${d}: the package ${importer.module} is imported by ${importer.file}`);
      else ctx.remove(d);
    }
  },
});

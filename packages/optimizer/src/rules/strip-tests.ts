import { isPackage, isWithin } from '../tree/tree-index.js';
import { defineRule, type RuleContext } from './rule.js';
import { siteDirsNamed } from './site-dirs-named.js';

/** The first kept file (by path) outside `dir` that imports the package at `dir` or a module in it. */
function importerOf(
  ctx: RuleContext,
  dir: string,
  files: readonly string[],
): { module: string; file: string } | undefined {
  const sp = ctx.layout.sitePackages;
  const module = dir.slice(sp === '' ? 0 : sp.length + 1).replaceAll('/', '.');
  const file = files.find(
    (f) =>
      !isWithin(f, dir) &&
      !ctx.removed.has(f) &&
      (ctx.testImports.get(f) ?? []).some((n) => n === module || n.startsWith(module + '.')),
  );
  return file === undefined ? undefined : { module, file };
}

/** `tests` / `test` directories, except a test package that kept code imports (kept, with a warning). */
export const stripTests = defineRule({
  name: 'strip-tests',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.profile.strip.tests) return;
    const importers = [...ctx.testImports.keys()].sort();
    for (const d of siteDirsNamed(ctx, ['tests', 'test'])) {
      if (ctx.removed.has(d)) continue;
      const importer = isPackage(ctx.index, d) ? importerOf(ctx, d, importers) : undefined;
      if (importer) ctx.warn(`kept ${d}: the package ${importer.module} is imported by ${importer.file}`);
      else ctx.remove(d);
    }
  },
});

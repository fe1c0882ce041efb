import { isWithin } from '../tree/tree-index.js';
import { parentOf } from '../tree/tree.js';
import { ClosureError } from './closure-error.js';
import { scanImports } from './python-imports.js';
import type { Rootfs } from './rootfs.js';
import { droppedTarget, type DroppedImport } from './stdlib.js';
import { LIMITS } from '../shared/limits.js';

/** A tree of kept Python code and the directory its imports are relative to (site-packages, or the app root). */
export interface CodeTree {
  root: string;
  importRoot: string;
}

/** Dotted package name of a file below `importRoot` ('' above or outside it). */
function packageOf(file: string, importRoot: string): string {
  if (!isWithin(file, importRoot) || file === importRoot) return '';
  return parentOf(file)
    .slice(importRoot === '' ? 0 : importRoot.length + 1)
    .replaceAll('/', '.');
}

/**
 * Check that no kept source imports a dropped standard library module when it is imported. Imports inside a block
 * (a function, `try`, `if`) are returned: they fail only if that code runs.
 * @throws {ClosureError} listing every kept file that imports a dropped module at module level
 */
export async function checkImports(
  rootfs: Rootfs,
  trees: readonly CodeTree[],
  dropped: ReadonlySet<string>,
): Promise<DroppedImport[]> {
  const broken: DroppedImport[] = [];
  const conditional: DroppedImport[] = [];
  for (const tree of trees) {
    for (const e of rootfs.index.entries.values()) {
      if (e.type !== 'file' || !e.path.endsWith('.py') || !isWithin(e.path, tree.root)) continue;
      const source = (await rootfs.read(e.path, LIMITS.sourceBytes)).toString('utf8');
      for (const imp of scanImports(source, packageOf(e.path, tree.importRoot))) {
        const module = droppedTarget(imp, dropped);
        if (module) (imp.conditional ? conditional : broken).push({ file: e.path, line: imp.line, module });
      }
    }
  }
  if (broken.length > 0) {
    throw new ClosureError(
      `kept code imports standard library modules the closure drops (keep them: remove them from stdlib.exclude):\n` +
        broken.map((b) => `  - /${b.file}:${b.line}: imports ${b.module}`).join('\n'),
    );
  }
  return conditional.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** The site-packages directory of a venv (`lib/pythonX.Y/site-packages`), or the venv root when there is none. */
export function sitePackagesOf(rootfs: Rootfs, venv: string, version: string): string {
  const sp = `${venv}/lib/python${version}/site-packages`;
  return rootfs.index.dirs.has(sp) ? sp : venv;
}

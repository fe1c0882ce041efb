import { moduleNameOf } from '../distributions/distributions.js';
import { isWithin } from '../tree/tree-index.js';
import { baseName } from '../tree/tree.js';
import type { Rootfs } from './rootfs.js';
import { scanImports, type PythonImport } from './python-imports.js';
import { LIMITS } from '../shared/limits.js';

/** A module left out of the standard library, and why. */
export interface DroppedModule {
  module: string;
  /** `excluded` (the configured list), or `imports <module>` (it imports a dropped module when imported). */
  reason: string;
}

/** An import of a dropped module by a kept file. */
export interface DroppedImport {
  file: string;
  line: number;
  module: string;
}

/** The standard library a service keeps. */
export interface StdlibPlan {
  /** Kept files and symlinks (no directories). */
  kept: string[];
  /** Kept extension modules of lib-dynload. */
  extensions: string[];
  dropped: DroppedModule[];
  /** Paths left out that are no module: bytecode (recompiled later), site-packages, the build's config dir. */
  droppedPaths: string[];
  /** The dropped module names (each drops what is below it too), for the import check of the venv and the app. */
  droppedNames: ReadonlySet<string>;
  /** Kept standard library files that import a dropped module inside a block (it may never run). */
  conditionalImports: DroppedImport[];
}

/** Directories of a standard library that hold no module of it. */
const NOT_MODULES = /^(?:site-packages|dist-packages|config-[^/]*)(?:\/|$)|(?:^|\/)__pycache__(?:\/|$)/;

/** The dotted module a file of the standard library belongs to ('' for top-level files that are no module). */
export function stdlibModuleOf(rel: string): string {
  const parts = rel.split('/');
  const file = parts.pop() ?? '';
  if (parts[0] === 'lib-dynload') return /\.so$/.test(file) ? moduleNameOf(file) : '';
  if (/\.pyc?$/.test(file) && !/^__init__\.pyc?$/.test(file)) parts.push(file.replace(/\.pyc?$/, ''));
  return parts.join('.');
}

/** Whether `module` is one of `names` or inside one of them. */
function under(module: string, names: ReadonlySet<string>): boolean {
  for (let m = module; m !== ''; m = m.slice(0, Math.max(0, m.lastIndexOf('.')))) if (names.has(m)) return true;
  return false;
}

/** The dropped module an import brings in, if any (`from pkg import sub` may import the dropped `pkg.sub`). */
export function droppedTarget(imp: PythonImport, dropped: ReadonlySet<string>): string | undefined {
  if (under(imp.module, dropped)) return imp.module;
  return imp.names.map((n) => `${imp.module}.${n}`).find((m) => dropped.has(m));
}

/** The imports of every kept .py file of the standard library. */
async function stdlibImports(
  rootfs: Rootfs,
  stdlib: string,
  files: readonly string[],
): Promise<Map<string, PythonImport[]>> {
  const out = new Map<string, PythonImport[]>();
  for (const f of files) {
    if (!f.endsWith('.py') || rootfs.index.entries.get(f)?.type !== 'file') continue;
    const module = stdlibModuleOf(f.slice(stdlib.length + 1));
    const pkg = baseName(f) === '__init__.py' ? module : module.slice(0, Math.max(0, module.lastIndexOf('.')));
    out.set(f, scanImports((await rootfs.read(f, LIMITS.sourceBytes)).toString('utf8'), pkg));
  }
  return out;
}

/** Drop, until nothing changes, every module that imports a dropped one when it is imported. */
function propagate(imports: ReadonlyMap<string, PythonImport[]>, stdlib: string, dropped: Map<string, string>): void {
  const names = new Set(dropped.keys());
  for (let changed = true; changed;) {
    changed = false;
    for (const [file, list] of imports) {
      const module = stdlibModuleOf(file.slice(stdlib.length + 1));
      if (module === '' || under(module, names)) continue;
      const target = list
        .filter((i) => !i.conditional)
        .map((i) => droppedTarget(i, names))
        .find((t) => t);
      if (!target) continue;
      dropped.set(module, `imports ${target}`);
      names.add(module);
      changed = true;
    }
  }
}

/**
 * The standard library minus the excluded modules, minus every module that imports a dropped one at module level
 * (found by a static import scan of the kept sources), minus bytecode, site-packages and the build's config dir.
 */
export async function planStdlib(rootfs: Rootfs, stdlib: string, exclude: readonly string[]): Promise<StdlibPlan> {
  const files: string[] = [];
  const droppedPaths: string[] = [];
  for (const e of rootfs.index.entries.values()) {
    if (e.type === 'directory' || !isWithin(e.path, stdlib) || e.path === stdlib) continue;
    (NOT_MODULES.test(e.path.slice(stdlib.length + 1)) ? droppedPaths : files).push(e.path);
  }
  const dropped = new Map<string, string>(exclude.map((m) => [m, 'excluded']));
  const excluded = new Set(exclude);
  const candidates = files.filter((f) => !under(stdlibModuleOf(f.slice(stdlib.length + 1)), excluded));
  const imports = await stdlibImports(rootfs, stdlib, candidates);
  propagate(imports, stdlib, dropped);
  const names = new Set(dropped.keys());
  const kept = files.filter((f) => !under(stdlibModuleOf(f.slice(stdlib.length + 1)), names)).sort();
  const conditionalImports: DroppedImport[] = [];
  for (const f of kept) {
    for (const i of imports.get(f) ?? []) {
      const target = droppedTarget(i, names);
      if (target) conditionalImports.push({ file: f, line: i.line, module: target });
    }
  }
  return {
    kept,
    extensions: kept.filter((f) => isWithin(f, `${stdlib}/lib-dynload`) && f.endsWith('.so')),
    dropped: [...dropped]
      .map(([module, reason]) => ({ module, reason }))
      .sort((a, b) => a.module.localeCompare(b.module)),
    droppedPaths: droppedPaths.sort(),
    droppedNames: names,
    conditionalImports,
  };
}

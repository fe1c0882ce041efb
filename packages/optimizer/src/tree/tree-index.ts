import { baseName, parentOf, type Layout, type TreeEntry } from './tree.js';

/** Tree lookups shared by the planner and its drivers. */
export interface TreeIndex<E extends TreeEntry = TreeEntry> {
  entries: ReadonlyMap<string, E>;
  /** Every directory, explicit or implied by a deeper path (the root is ''). */
  dirs: ReadonlySet<string>;
  children: ReadonlyMap<string, string[]>;
}

/** Index a list of entries. */
export function indexTree<E extends TreeEntry>(list: readonly E[]): TreeIndex<E> {
  const entries = new Map<string, E>();
  const dirs = new Set<string>(['']);
  const children = new Map<string, string[]>();
  const addChild = (parent: string, child: string): void => {
    const c = children.get(parent);
    if (c) c.push(child);
    else children.set(parent, [child]);
  };
  const ensureDir = (dir: string): void => {
    while (!dirs.has(dir)) {
      dirs.add(dir);
      const parent = parentOf(dir);
      addChild(parent, dir);
      dir = parent;
    }
  };
  for (const e of list) {
    if (e.path === '' || entries.has(e.path)) continue;
    entries.set(e.path, e);
    if (e.type === 'directory') {
      ensureDir(e.path);
    } else {
      const parent = parentOf(e.path);
      ensureDir(parent);
      addChild(parent, e.path);
    }
  }
  return { entries, dirs, children };
}

/** True when `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(dir + '/');
}

/** A regular package: `__init__.py`, or `__init__.pyc` when shipped sourceless (compileall -b). */
export function isPackage(index: TreeIndex, dir: string, removed?: ReadonlyMap<string, unknown>): boolean {
  return [`${dir}/__init__.py`, `${dir}/__init__.pyc`].some((p) => index.entries.has(p) && !removed?.has(p));
}

/** `tests`/`test` directories that are Python packages: kept when other kept code imports them. */
export function testPackageCandidates(index: TreeIndex, layout: Layout): string[] {
  const out: string[] = [];
  for (const d of index.dirs) {
    if (!isWithin(d, layout.sitePackages) || d === layout.sitePackages) continue;
    const name = baseName(d);
    if ((name === 'tests' || name === 'test') && isPackage(index, d)) out.push(d);
  }
  return out.sort();
}

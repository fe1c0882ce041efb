import { NotSitePackagesError } from '../shared/errors.js';

/** Kind of a tree entry. Hard links, devices and fifos are `other` (kept as they are). */
export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

/** One entry of the input tree: a path relative to the input root (POSIX, no leading `./`, no trailing `/`). */
export interface TreeEntry {
  path: string;
  type: EntryType;
  /** Bytes of a regular file; 0 for everything else. */
  size: number;
}

/** Where things are inside the input tree. Paths are relative to the input root ('' is the root itself). */
export interface Layout {
  /** The site-packages directory. */
  sitePackages: string;
  /** The virtual environment root, when the input is (or contains) one. */
  venvRoot?: string;
  /** Directory holding console scripts: the venv's `bin`, or `bin` inside a `pip install --target` tree. */
  binDir?: string;
  /** Interpreter tag of bytecode that belongs (e.g. `cpython-311`), from the venv layout or the bytecode present. */
  pythonTag?: string;
}

/** Join POSIX path parts, ignoring empty ones. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** Parent of a relative path ('' for a top-level one). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Last path segment. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A path relative to the root, lexically: no leading, trailing or doubled slashes, no `.` segments (`..` stays). */
export function normalizeMemberName(name: string): string {
  return name
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

const BYTECODE_RE = /^(.+)\.([a-z]+-\d+)(\.opt-\d+)?\.pyc$/;

/** Split `__pycache__` file names: `mod.cpython-311.opt-1.pyc` → `{ module: 'mod', tag: 'cpython-311' }`. */
export function parseBytecodeName(name: string): { module: string; tag: string } | undefined {
  const m = BYTECODE_RE.exec(name);
  return m ? { module: m[1] ?? '', tag: m[2] ?? '' } : undefined;
}

/**
 * Find site-packages, the venv root and the scripts directory among the paths of a tree.
 * @param dirs every directory of the tree (explicit or implied by a deeper path)
 * @param has whether a path exists in the tree
 * @throws {NotSitePackagesError} when no (or more than one) site-packages is found
 */
export function detectLayout(
  inputName: string,
  dirs: ReadonlySet<string>,
  has: (path: string) => boolean,
  opts: { sitePackagesPrefix?: string; pythonTags?: Iterable<string> } = {},
): Layout {
  let sitePackages: string;
  if (opts.sitePackagesPrefix !== undefined) {
    sitePackages = normalizeMemberName(opts.sitePackagesPrefix);
    if (sitePackages !== '' && !dirs.has(sitePackages)) {
      throw new NotSitePackagesError(inputName, `the given site-packages prefix '${sitePackages}' is not in it`);
    }
  } else {
    const candidates = new Set<string>();
    for (const d of dirs) if (d.endsWith('.dist-info')) candidates.add(parentOf(d));
    if (candidates.size === 0) {
      throw new NotSitePackagesError(inputName, 'no *.dist-info directory found (nothing was installed with pip here)');
    }
    const preferred = [...candidates].filter((c) => c === 'site-packages' || c.endsWith('/site-packages'));
    // Vendored dist-info (setuptools/_vendor/*.dist-info) sits deeper than the real site-packages.
    const all = preferred.length > 0 ? preferred : [...candidates];
    const depth = (p: string): number => (p === '' ? 0 : p.split('/').length);
    const minDepth = Math.min(...all.map(depth));
    const pool = all.filter((c) => depth(c) === minDepth);
    if (pool.length > 1) {
      throw new NotSitePackagesError(
        inputName,
        `more than one site-packages found (${pool.sort().join(', ')}); pass the one to optimize`,
      );
    }
    sitePackages = pool[0] ?? '';
  }
  if (![...dirs].some((d) => parentOf(d) === sitePackages && d.endsWith('.dist-info'))) {
    throw new NotSitePackagesError(inputName, `no *.dist-info directory in '${sitePackages || '.'}'`);
  }

  const layout: Layout = { sitePackages };
  const venv = /^(?:(.*)\/)?lib\/python(\d)\.(\d+)\/site-packages$/.exec(sitePackages);
  if (venv) {
    const root = venv[1] ?? '';
    layout.pythonTag = `cpython-${venv[2]}${venv[3]}`;
    if (has(joinPath(root, 'pyvenv.cfg')) || dirs.has(joinPath(root, 'bin'))) {
      layout.venvRoot = root;
      if (dirs.has(joinPath(root, 'bin'))) layout.binDir = joinPath(root, 'bin');
    }
  } else if (dirs.has(joinPath(sitePackages, 'bin'))) {
    layout.binDir = joinPath(sitePackages, 'bin');
  }
  if (!layout.pythonTag && opts.pythonTags) {
    const counts = new Map<string, number>();
    for (const t of opts.pythonTags) counts.set(t, (counts.get(t) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    if (best) layout.pythonTag = best[0];
  }
  return layout;
}

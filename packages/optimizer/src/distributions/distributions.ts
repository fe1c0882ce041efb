import { parseMetadata, parseRecord, parseScriptNames, type RecordRow } from './metadata.js';
import { normalizeDistName } from '../profile/profile.js';
import { isWithin, type TreeIndex } from '../tree/tree-index.js';
import { baseName, joinPath, type Layout } from '../tree/tree.js';

/** An installed distribution as its dist-info describes it. */
export interface Dist {
  key: string;
  name: string;
  norm: string;
  version: string;
  rows: RecordRow[];
  /** Resolved RECORD paths (inside the tree) per row, undefined when outside it. */
  resolved: (string | undefined)[];
  topLevel: string[];
  scripts: string[];
  requires: string[];
  /** The installer marked it as asked for by name (a `REQUESTED` file in its dist-info). */
  requested: boolean;
}

/** The distributions of a tree with the owners of its paths. */
export interface Distributions {
  /** Sorted by normalized name. */
  dists: Dist[];
  /** The dist-info (key) that lists each path in its RECORD (the first one, when several do). */
  ownerByPath: Map<string, string>;
  /** The dist-infos that own each top-level name. */
  topOwners: Map<string, Set<string>>;
}

/** A distribution removed because only removed distributions required it. */
export interface OrphanRemoval {
  name: string;
  version: string;
  requiredBy: string[];
}

/** Owner name of files no RECORD claims. */
export const UNOWNED = '(unowned)';

/** Module name of a file name (`six.py` → `six`, `_x.cpython-311-x86_64-linux-gnu.so` → `_x`). */
export function moduleNameOf(fileName: string): string {
  return fileName.split('.')[0] ?? fileName;
}

/** `rel` from `base`, lexically; undefined for an absolute path or one that climbs above the root. */
function resolveRelative(base: string, rel: string): string | undefined {
  if (rel.startsWith('/')) return undefined;
  // Fast path: almost every RECORD row is a plain relative path.
  if (!rel.includes('..') && !rel.includes('./') && !rel.includes('//')) {
    return base === '' ? rel : `${base}/${rel}`;
  }
  const parts = base === '' ? [] : base.split('/');
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}

/**
 * A RECORD path in the tree, lexically (undefined when absolute, or above the root and not a script); scripts (`../../../bin/x` in a
 * venv, `../../bin/x` with --target) map to binDir.
 */
function resolveRecordPath(layout: Layout, recordPath: string): string | undefined {
  const sp = layout.sitePackages;
  const p = resolveRelative(sp, recordPath);
  if (p !== undefined && isWithin(p, sp)) return p;
  if (recordPath.startsWith('/')) return undefined;
  if (layout.binDir && /(?:^|\/)bin\/[^/]+$/.test(recordPath)) return joinPath(layout.binDir, baseName(recordPath));
  return p;
}

/** Top-level names: top_level.txt when present, else the first segments of the RECORD paths. */
function topLevelOf(topText: string | undefined, rows: readonly RecordRow[]): string[] {
  if (topText) {
    return topText
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.includes('/'));
  }
  const firsts = rows
    .map((r) => r.path.split('/')[0] ?? '')
    .filter((s) => s !== '' && s !== '..' && !s.endsWith('.dist-info') && s !== '__pycache__' && !s.endsWith('.pth'));
  return [...new Set(firsts.map(moduleNameOf))];
}

function readDistribution(index: TreeIndex, layout: Layout, content: ReadonlyMap<string, Buffer>, d: string): Dist {
  const text = (p: string): string | undefined => content.get(p)?.toString('utf8');
  const meta = parseMetadata(text(`${d}/METADATA`) ?? '');
  const stem = baseName(d).slice(0, -'.dist-info'.length);
  const dash = stem.indexOf('-');
  const name = meta.name ?? (dash < 0 ? stem : stem.slice(0, dash));
  const rows = parseRecord(text(`${d}/RECORD`) ?? '');
  return {
    key: d,
    name,
    norm: normalizeDistName(name),
    version: meta.version ?? (dash < 0 ? '' : stem.slice(dash + 1)),
    rows,
    resolved: rows.map((r) => resolveRecordPath(layout, r.path)),
    topLevel: topLevelOf(text(`${d}/top_level.txt`), rows),
    scripts: parseScriptNames(text(`${d}/entry_points.txt`) ?? ''),
    requires: meta.requires,
    requested: index.entries.has(`${d}/REQUESTED`),
  };
}

function addOwner(map: Map<string, Set<string>>, top: string, key: string): void {
  const s = map.get(top);
  if (s) s.add(key);
  else map.set(top, new Set([key]));
}

/** Owner of every path a RECORD lists, and owners of each top-level name. */
function ownersOf(dists: readonly Dist[], sp: string): Omit<Distributions, 'dists'> {
  const ownerByPath = new Map<string, string>();
  const topOwners = new Map<string, Set<string>>();
  for (const d of dists) {
    for (const p of d.resolved) {
      if (p === undefined) continue;
      if (!ownerByPath.has(p)) ownerByPath.set(p, d.key);
      if (isWithin(p, sp) && p !== sp) {
        const top = moduleNameOf(p.slice(sp === '' ? 0 : sp.length + 1).split('/')[0] ?? '');
        if (top !== '__pycache__') addOwner(topOwners, top, d.key);
      }
    }
    for (const t of d.topLevel) addOwner(topOwners, t, d.key);
  }
  return { ownerByPath, topOwners };
}

/** Distributions of a tree (from their dist-info), with owners per RECORD path and per top-level name. */
export function readDistributions(
  index: TreeIndex,
  layout: Layout,
  content: ReadonlyMap<string, Buffer>,
): Distributions {
  const sp = layout.sitePackages;
  const dists: Dist[] = [];
  for (const d of index.children.get(sp) ?? []) {
    if (d.endsWith('.dist-info') && index.dirs.has(d)) dists.push(readDistribution(index, layout, content, d));
  }
  dists.sort((a, b) => a.norm.localeCompare(b.norm) || a.key.localeCompare(b.key));
  return { dists, ...ownersOf(dists, sp) };
}

/** The dist-info (key) that owns a path, or {@link UNOWNED}. */
export function ownerOfPath(
  p: string,
  sp: string,
  ownerByPath: ReadonlyMap<string, string>,
  topOwners: ReadonlyMap<string, Set<string>>,
): string {
  const direct = ownerByPath.get(p);
  if (direct) return direct;
  if (!isWithin(p, sp) || p === sp) return UNOWNED;
  const first = p.slice(sp === '' ? 0 : sp.length + 1).split('/');
  const seg = first[0] ?? '';
  if (seg.endsWith('.dist-info')) return joinPath(sp, seg);
  let top = moduleNameOf(seg);
  if (seg === '__pycache__' && first[1]) top = moduleNameOf(first[1]);
  const owners = topOwners.get(top);
  return owners && owners.size === 1 ? ([...owners][0] ?? UNOWNED) : UNOWNED;
}

/**
 * Adds to `removeSet` (in place) every distribution that nothing kept requires any more and that was not asked for
 * by name, until no more go. Without any REQUESTED marker in the tree the roots are unknown, so nothing is removed.
 */
export function removeOrphans(dists: readonly Dist[], removeSet: Set<string>, warnings: string[]): OrphanRemoval[] {
  const orphans: OrphanRemoval[] = [];
  if (!dists.some((d) => d.requested)) {
    const candidates = dists.filter(
      (d) => !removeSet.has(d.norm) && dists.some((x) => removeSet.has(x.norm) && x.requires.includes(d.norm)),
    );
    if (candidates.length > 0) {
      warnings.push(
        `no REQUESTED markers in this tree: kept ${candidates.map((d) => d.name).join(', ')}, which only removed distributions may need`,
      );
    }
    return orphans;
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const d of dists) {
      if (removeSet.has(d.norm) || d.requested) continue;
      const dependents = dists.filter((x) => x !== d && x.requires.includes(d.norm));
      if (dependents.length === 0 || dependents.some((x) => !removeSet.has(x.norm))) continue;
      removeSet.add(d.norm);
      orphans.push({ name: d.name, version: d.version, requiredBy: dependents.map((x) => x.name).sort() });
      changed = true;
    }
  }
  return orphans;
}

import type { ImportProfile } from '../startup/import-profile.js';
import type { ContentsReport, ImportChange, PackageChange, PathGrowth, PathSizeChange } from './contents-report.js';

/**
 * Why an image changed against its baseline: which Python distributions and Debian packages were added, removed or
 * changed (with their size change, biggest paths and the layer that brought them), which paths grew most, and how
 * each distribution's import time moved. Pure.
 */

/** One side of the comparison: an image report's contents, layers and import profile. */
export interface ContentsSide {
  contents?: ContentsReport;
  layers: readonly { createdBy: string }[];
  importProfile?: ImportProfile;
}

export interface ContentsDiff {
  /** Largest change first; unchanged packages are left out. */
  packages: PackageChange[];
  /** The paths that grew most, each not mostly explained by a listed path below it. */
  growingPaths: PathGrowth[];
  /** Per distribution, largest change first; absent unless both sides have an import profile. */
  imports?: ImportChange[];
}

export interface DiffContentsOptions {
  /** Default 10. */
  growingPaths?: number;
  /** Paths listed per package (default 5). */
  packagePaths?: number;
}

/** Compares two sides; undefined when either has no contents. */
export function diffContents(
  now: ContentsSide,
  before: ContentsSide,
  options: DiffContentsOptions = {},
): ContentsDiff | undefined {
  if (!now.contents || !before.contents) return undefined;
  const perPackage = options.packagePaths ?? 5;
  const packages = [
    ...diffPackages('python', now.contents.python, before.contents.python, now, before, perPackage),
    ...diffPackages('debian', now.contents.debian, before.contents.debian, now, before, perPackage),
  ].sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.name.localeCompare(b.name));
  const imports =
    now.importProfile && before.importProfile ? diffImports(now.importProfile, before.importProfile) : undefined;
  return {
    packages,
    growingPaths: growingPaths(now, before.contents, options.growingPaths ?? 10),
    ...(imports && { imports }),
  };
}

interface PackageLike {
  name: string;
  version: string;
  sizeBytes: number;
  layer: number;
  location?: string;
  topPaths?: { path: string; sizeBytes: number }[];
}

const stepOf = (side: ContentsSide, layer: number): string | null =>
  layer >= 0 ? (side.layers[layer]?.createdBy ?? null) : null;

/** Python names compare case- and separator-insensitively (PEP 503): `Typing_Extensions` = `typing-extensions`. */
function key(kind: PackageChange['kind'], name: string): string {
  return kind === 'python' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

function diffPackages(
  kind: PackageChange['kind'],
  nowList: readonly PackageLike[],
  beforeList: readonly PackageLike[],
  now: ContentsSide,
  before: ContentsSide,
  perPackage: number,
): PackageChange[] {
  const old = new Map(beforeList.map((p) => [key(kind, p.name), p]));
  const out: PackageChange[] = [];
  for (const p of nowList) {
    const b = old.get(key(kind, p.name));
    old.delete(key(kind, p.name));
    if (b && b.version === p.version && b.sizeBytes === p.sizeBytes) continue;
    out.push({
      kind,
      name: p.name,
      change: b ? 'changed' : 'added',
      versionBefore: b?.version ?? null,
      versionAfter: p.version,
      before: b?.sizeBytes ?? null,
      after: p.sizeBytes,
      delta: p.sizeBytes - (b?.sizeBytes ?? 0),
      layer: stepOf(now, p.layer),
      paths: packagePaths(p.topPaths ?? [], b?.topPaths, perPackage),
    });
  }
  for (const b of old.values()) {
    out.push({
      kind,
      name: b.name,
      change: 'removed',
      versionBefore: b.version,
      versionAfter: null,
      before: b.sizeBytes,
      after: null,
      delta: -b.sizeBytes,
      layer: stepOf(before, b.layer),
      paths: packagePaths([], b.topPaths, perPackage),
    });
  }
  return out;
}

function packagePaths(
  nowPaths: readonly { path: string; sizeBytes: number }[],
  beforePaths: readonly { path: string; sizeBytes: number }[] | undefined,
  count: number,
): PathSizeChange[] {
  const before = new Map((beforePaths ?? []).map((p) => [p.path, p.sizeBytes]));
  const after = new Map(nowPaths.map((p) => [p.path, p.sizeBytes]));
  const names = [...new Set([...after.keys(), ...before.keys()])];
  return names
    .map((path) => {
      const x = before.get(path) ?? null;
      const y = after.get(path) ?? null;
      return { path, before: x, after: y, delta: (y ?? 0) - (x ?? 0) };
    })
    .filter((p) => p.delta !== 0)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.path.localeCompare(b.path))
    .slice(0, count);
}

function sumByPath(paths: ContentsReport['paths']): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of paths) out.set(p.path, (out.get(p.path) ?? 0) + p.sizeBytes);
  return out;
}

/** The layer providing most bytes under `path` now. */
function mainLayer(paths: ContentsReport['paths'], path: string): number {
  let best = -1;
  let bestBytes = -1;
  for (const p of paths) {
    if (p.path === path && p.sizeBytes > bestBytes) [best, bestBytes] = [p.layer, p.sizeBytes];
  }
  return best;
}

function growingPaths(now: ContentsSide, before: ContentsReport, count: number): PathGrowth[] {
  const nowPaths = now.contents?.paths ?? [];
  const after = sumByPath(nowPaths);
  const prior = sumByPath(before.paths);
  const grown = [...after.entries()]
    .map(([path, size]) => ({
      path,
      before: prior.get(path) ?? null,
      after: size,
      delta: size - (prior.get(path) ?? 0),
    }))
    .filter((p) => p.delta > 0);
  const byPath = new Map(grown.map((g) => [g.path, g]));
  // A directory whose growth is mostly (≥ 80%) one listed child's is represented by that child.
  const explained = new Set<string>();
  for (const g of grown) {
    const parent = g.path.slice(0, g.path.lastIndexOf('/'));
    const p = byPath.get(parent);
    if (p && g.delta >= 0.8 * p.delta) explained.add(parent);
  }
  return grown
    .filter((g) => !explained.has(g.path))
    .sort((a, b) => b.delta - a.delta || a.path.localeCompare(b.path))
    .slice(0, count)
    .map((g) => ({ ...g, layer: stepOf(now, mainLayer(nowPaths, g.path)) }));
}

function diffImports(now: ImportProfile, before: ImportProfile): ImportChange[] {
  const old = new Map(before.byDistribution.map((d) => [d.distribution, d.ms]));
  const out: ImportChange[] = now.byDistribution.map((d) => {
    const b = old.get(d.distribution) ?? null;
    old.delete(d.distribution);
    return { distribution: d.distribution, beforeMs: b, afterMs: d.ms, deltaMs: round(d.ms - (b ?? 0)) };
  });
  for (const [distribution, ms] of old) out.push({ distribution, beforeMs: ms, afterMs: null, deltaMs: -ms });
  return out.sort((a, b) => Math.abs(b.deltaMs) - Math.abs(a.deltaMs) || a.distribution.localeCompare(b.distribution));
}

const round = (n: number) => Math.round(n * 10) / 10;

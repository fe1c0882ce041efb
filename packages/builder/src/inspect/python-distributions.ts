import type { TreeEntry } from './analyze-layers.js';

/**
 * The Python distributions of an image, from its final file tree and the contents of their `*.dist-info` metadata:
 * name and version (`METADATA`), the files they installed (`RECORD`) and import names (`top_level.txt`), under any
 * prefix (a venv, `/usr/local`, `site-packages` or `dist-packages`). Sizes come from the final tree, so files added
 * after installation are counted too: bytecode next to its source (`x.pyc` for `x.py`, `__pycache__/x.*.pyc`) and
 * anything in a directory only one distribution installed into. Pure.
 */

/** A path inside a distribution and its bytes. */
export interface DistributionPath {
  /** Relative to the distribution's `location` (e.g. `botocore/data`). */
  path: string;
  sizeBytes: number;
}

export interface PythonDistribution {
  /** As written in METADATA (`Name:`). */
  name: string;
  version: string;
  /** The directory holding the `.dist-info` (site-packages or dist-packages). */
  location: string;
  /** Regular-file bytes of the final tree attributed to this distribution. */
  sizeBytes: number;
  fileCount: number;
  /** The layer that brought most of these bytes. */
  layer: number;
  /** The largest directories and files inside it (not nested in each other), largest first. */
  topPaths: DistributionPath[];
  /** Top-level import names (`top_level.txt`, else derived from RECORD). */
  importNames: string[];
  /** METADATA's `License-Expression` (PEP 639: an SPDX expression), when it has one. */
  licenseExpression?: string;
  /** Without an expression: METADATA's one-line `License`, else its `License ::` classifiers' names. */
  licenses?: string[];
}

/** Reads a file of the final tree (e.g. from a `FileCollector`); undefined when not available. */
export type ReadFile = (path: string) => Buffer | string | undefined;

/** One `*.dist-info` read: what it says, and the absolute paths its RECORD lists. */
export interface DistInfo {
  name: string;
  version: string;
  location: string;
  record: string[];
  importNames: string[];
  /** Its METADATA exists: what scanners read to see the distribution. */
  hasMetadata: boolean;
  license: DistributionLicense;
}

/** What a METADATA says of the license (both absent when it says nothing usable). */
type DistributionLicense = Pick<PythonDistribution, 'licenseExpression' | 'licenses'>;

const DIST_INFO_DIR = /^(.*\/(?:site|dist)-packages)\/([^/]+)\.dist-info$/;

/** Parses the header part of a METADATA (RFC 822 style) file. */
export function parseMetadata(text: string): ({ name: string; version: string } & DistributionLicense) | undefined {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const field = (key: string) => new RegExp(`^${key}:[ \\t]*(.+?)\\s*$`, 'mi').exec(head)?.[1];
  const name = field('Name');
  return name ? { name, version: field('Version') ?? '', ...metadataLicense(head, field) } : undefined;
}

/**
 * `License-Expression` (PEP 639), else a one-line `License` field (older metadata puts whole license texts there: a
 * field continued on the next line, or longer than a name, is left out), else the `License ::` classifiers' last part.
 */
function metadataLicense(head: string, field: (key: string) => string | undefined): DistributionLicense {
  const expression = field('License-Expression');
  if (expression) return { licenseExpression: expression };
  const license = /^License:[ \t]*(.+?)[ \t]*\r?\n(?![ \t])/im.exec(`${head}\n`)?.[1];
  if (license && license.length <= 80 && !/^unknown$/i.test(license)) return { licenses: [license] };
  const classifiers = [...head.matchAll(/^Classifier:[ \t]*License :: (.+?)\s*$/gim)]
    .map((m) => (m[1] ?? '').split(' :: ').pop() ?? '')
    .filter((n) => n && n !== 'OSI Approved');
  return classifiers.length ? { licenses: [...new Set(classifiers)] } : {};
}

/** The paths of a RECORD (CSV: `path,hash,size`; a path may be quoted), made absolute under `location`. */
export function parseRecord(text: string, location: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    let path: string;
    if (line.startsWith('"')) {
      const m = /^"((?:[^"]|"")*)"/.exec(line);
      path = (m?.[1] ?? '').replace(/""/g, '"');
    } else path = line.slice(0, line.indexOf(',') < 0 ? undefined : line.indexOf(','));
    if (path) out.push(joinPath(location, path));
  }
  return out;
}

/** `/a/b` + `../c/d` → `/a/c/d`; an absolute `rel` stays as is. */
function joinPath(base: string, rel: string): string {
  const parts = rel.startsWith('/') ? [] : base.split('/').filter(Boolean);
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** Import names from RECORD paths: first segments under `location`, without extensions and metadata dirs. */
function importNamesFromRecord(record: readonly string[], location: string): string[] {
  const names = new Set<string>();
  for (const path of record) {
    if (!path.startsWith(location + '/')) continue;
    const first = path.slice(location.length + 1).split('/')[0] ?? '';
    if (!first || first.endsWith('.dist-info') || first === '__pycache__' || first.endsWith('.pth')) continue;
    const name = first.replace(/\.(py|pyc|so|pyd)$/, '').replace(/\.cpython-[^.]+$|\.abi3$/, '');
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) names.add(name);
  }
  return [...names].sort();
}

function readDistInfo(dir: string, read: ReadFile): DistInfo | undefined {
  const m = DIST_INFO_DIR.exec(dir);
  if (!m?.[1]) return undefined;
  const location = m[1];
  const metadata = read(`${dir}/METADATA`);
  const meta = metadata === undefined ? undefined : parseMetadata(metadata.toString());
  // Without METADATA the directory name still says `name-version`.
  const [dirName = '', dirVersion = ''] = (m[2] ?? '').split('-');
  const recordText = read(`${dir}/RECORD`)?.toString() ?? '';
  const record = parseRecord(recordText, location);
  const topLevel = read(`${dir}/top_level.txt`)?.toString();
  const importNames = topLevel
    ? topLevel
        .split(/\r?\n/)
        .map((s) => s.trim().split('/').pop() ?? '')
        .filter(Boolean)
    : importNamesFromRecord(record, location);
  return {
    name: meta?.name ?? dirName,
    version: meta?.version ?? dirVersion,
    location,
    record,
    importNames,
    hasMetadata: meta !== undefined,
    license: {
      ...(meta?.licenseExpression && { licenseExpression: meta.licenseExpression }),
      ...(meta?.licenses && { licenses: meta.licenses }),
    },
  };
}

/** `dir/__pycache__/x.cpython-311.opt-1.pyc` and `dir/x.pyc` → `dir/x.py`. */
function sourceOf(path: string): string | undefined {
  const cached = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/.exec(path);
  if (cached) return `${cached[1]}/${cached[2]}.py`;
  return path.endsWith('.pyc') ? path.slice(0, -1) : undefined;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Who owns which path: exact RECORD paths, and per directory the distributions that installed files into it. */
interface Ownership {
  files: Map<string, number>;
  dirs: Map<string, Set<number>>;
  locations: string[];
}

function ownership(dists: readonly DistInfo[]): Ownership {
  const files = new Map<string, number>();
  const dirs = new Map<string, Set<number>>();
  dists.forEach((d, i) => {
    for (const path of d.record) {
      files.set(path, i);
      for (let dir = parentOf(path); dir.startsWith(d.location + '/'); dir = parentOf(dir)) {
        let set = dirs.get(dir);
        if (!set) dirs.set(dir, (set = new Set()));
        set.add(i);
      }
    }
  });
  return { files, dirs, locations: [...new Set(dists.map((d) => d.location))] };
}

function ownerOf(path: string, o: Ownership): number | undefined {
  const exact = o.files.get(path) ?? o.files.get(sourceOf(path) ?? '');
  if (exact !== undefined) return exact;
  const location = o.locations.find((l) => path.startsWith(l + '/'));
  if (!location) return undefined;
  for (let dir = parentOf(path); dir.length > location.length; dir = parentOf(dir)) {
    const owners = o.dirs.get(dir);
    if (owners?.size === 1) return [...owners][0];
    if (owners && owners.size > 1) return undefined; // a namespace directory shared by several distributions
  }
  return undefined;
}

/** Every `*.dist-info` directory of the final tree, its metadata read through `read`. */
export function readDistInfos(tree: ReadonlyMap<string, TreeEntry>, read: ReadFile): DistInfo[] {
  const dists: DistInfo[] = [];
  for (const node of tree.values()) {
    if (node.type !== 'directory' || !node.path.endsWith('.dist-info')) continue;
    const info = readDistInfo(node.path, read);
    if (info) dists.push(info);
  }
  return dists;
}

/**
 * Finds every `*.dist-info` directory of the final tree, reads its metadata through `read`, and attributes the tree's
 * regular files to the distributions. Largest first.
 */
export function readPythonDistributions(
  tree: ReadonlyMap<string, TreeEntry>,
  read: ReadFile,
  options: { topPaths?: number } = {},
): PythonDistribution[] {
  const dists = readDistInfos(tree, read);
  if (dists.length === 0) return [];
  const o = ownership(dists);
  const files: TreeEntry[][] = dists.map(() => []);
  for (const node of tree.values()) {
    if (node.type !== 'file') continue;
    const owner = ownerOf(node.path, o);
    if (owner !== undefined) files[owner]?.push(node);
  }
  return dists
    .map((d, i) => summarize(d, files[i] ?? [], options.topPaths ?? 5))
    .sort((a, b) => b.sizeBytes - a.sizeBytes || a.name.localeCompare(b.name));
}

function summarize(d: DistInfo, files: readonly TreeEntry[], topCount: number): PythonDistribution {
  const byLayer = new Map<number, number>();
  let sizeBytes = 0;
  for (const f of files) {
    sizeBytes += f.size;
    byLayer.set(f.layer, (byLayer.get(f.layer) ?? 0) + f.size);
  }
  const layer = [...byLayer.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? -1;
  return {
    name: d.name,
    version: d.version,
    location: d.location,
    sizeBytes,
    fileCount: files.length,
    layer,
    topPaths: biggestPaths(files, d.location, topCount),
    importNames: d.importNames,
    ...d.license,
  };
}

/**
 * The largest directories (2 to 4 levels below `location`, so not the package itself) and files, none nested in
 * another one that is listed.
 */
export function biggestPaths(files: readonly TreeEntry[], location: string, count: number): DistributionPath[] {
  const sizes = new Map<string, number>();
  for (const f of files) {
    const rel = f.path.slice(location.length + 1);
    sizes.set(rel, (sizes.get(rel) ?? 0) + f.size);
    const segs = rel.split('/');
    for (let depth = 2; depth <= Math.min(4, segs.length - 1); depth++) {
      const dir = segs.slice(0, depth).join('/');
      sizes.set(dir, (sizes.get(dir) ?? 0) + f.size);
    }
  }
  const sorted = [...sizes.entries()].sort((a, b) => b[1] - a[1] || a[0].length - b[0].length);
  const picked: DistributionPath[] = [];
  for (const [path, sizeBytes] of sorted) {
    if (picked.length >= count) break;
    const nested = picked.some((p) => path.startsWith(p.path + '/') || p.path.startsWith(path + '/'));
    if (!nested && sizeBytes > 0) picked.push({ path, sizeBytes });
  }
  return picked;
}

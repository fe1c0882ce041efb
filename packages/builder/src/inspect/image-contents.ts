import type { TreeEntry } from './analyze-layers.js';
import { readDebianPackages, type DebianPackage } from './debian-packages.js';
import { elfOwnership, type ElfOwnership } from './elf-owners.js';
import type { FileDigest } from './layer-file-contents.js';
import { readOsRelease, type OsRelease } from './os-release.js';
import { readPythonDistributions, type PythonDistribution, type ReadFile } from './python-distributions.js';

/**
 * What an image is made of, for "why is it this big" and for its SBOM: Python distributions, Debian packages, the
 * distribution it says it is, its application files' digests, who owns its ELF files, and the biggest paths of each
 * layer. Pure: reads the final tree and the metadata files a `FileCollector` kept.
 */

/** A file of the image hashed as its layer was read (the application's own files: `InspectImageOptions.hashPaths`). */
export interface HashedFile {
  path: string;
  /** SHA-256, hex. */
  sha256: string;
  sizeBytes: number;
  /** The layer that provides this version. */
  layer: number;
}

/** Regular-file bytes under `path` that `layer` provides in the final tree. */
export interface LayerPathSize {
  layer: number;
  path: string;
  sizeBytes: number;
}

export interface ImageContents {
  python: PythonDistribution[];
  debian: DebianPackage[];
  /**
   * Per layer, its biggest paths (directories and files) with the bytes it provides under each; ancestor-closed (a
   * listed path's parent directory is listed too, except `/`), largest first, at most `maxPaths`.
   */
  paths: LayerPathSize[];
  /** Import names of the Python standard library found in the image (`lib/pythonX.Y/…`). */
  pythonStdlib: string[];
  /** Service models under `botocore/data` (one directory each), when botocore is installed. */
  botocoreServices?: number;
  /** `.py` files in site-packages with no bytecode next to them: compiled at every start (or never cached). */
  sourcesWithoutBytecode: number;
  /** The distribution the image says it is (`/etc/os-release`); absent when it has none. */
  os?: OsRelease;
  /** Files hashed while the layers were read, sorted by path (absent when none were asked for). */
  files?: HashedFile[];
  /** ELF files, and those no package a scanner can see owns. */
  elf: ElfOwnership;
}

export interface ReadImageContentsOptions {
  /** Default 600. */
  maxPaths?: number;
  /** Biggest paths kept per distribution (default 5). */
  topPaths?: number;
  /** Digests of files of the final tree (`FileCollector.resolveHashes`), listed as `files`. */
  hashes?: ReadonlyMap<string, FileDigest>;
}

/** Reads distributions, packages and per-layer path sizes from an image's final tree. */
export function readImageContents(
  tree: ReadonlyMap<string, TreeEntry>,
  read: ReadFile,
  options: ReadImageContentsOptions = {},
): ImageContents {
  const python = readPythonDistributions(tree, read, { topPaths: options.topPaths ?? 5 });
  const debian = readDebianPackages(tree, read);
  const botocore = botocoreServiceCount(tree, python);
  const os = readOsRelease(tree, read);
  return {
    python,
    debian,
    paths: layerPathSizes(tree, options.maxPaths ?? 600),
    pythonStdlib: stdlibNames(tree),
    ...(botocore !== undefined && { botocoreServices: botocore }),
    sourcesWithoutBytecode: countSourcesWithoutBytecode(tree, python),
    ...(os && { os }),
    ...(options.hashes && { files: hashedFiles(tree, options.hashes) }),
    elf: elfOwnership(tree, read, debian),
  };
}

function hashedFiles(tree: ReadonlyMap<string, TreeEntry>, hashes: ReadonlyMap<string, FileDigest>): HashedFile[] {
  return [...hashes]
    .map(([path, d]) => ({ path, sha256: d.sha256, sizeBytes: d.size, layer: tree.get(path)?.layer ?? -1 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Per (layer, path) bytes for every directory and file, then the largest `max` (ancestors sort before children). */
export function layerPathSizes(tree: ReadonlyMap<string, TreeEntry>, max: number): LayerPathSize[] {
  const sizes = new Map<string, LayerPathSize>();
  const add = (layer: number, path: string, bytes: number) => {
    const key = `${layer}\u0000${path}`;
    const entry = sizes.get(key);
    if (entry) entry.sizeBytes += bytes;
    else sizes.set(key, { layer, path, sizeBytes: bytes });
  };
  for (const node of tree.values()) {
    if (node.type !== 'file' || node.size === 0) continue;
    add(node.layer, node.path, node.size);
    for (let i = node.path.lastIndexOf('/'); i > 0; i = node.path.lastIndexOf('/', i - 1)) {
      add(node.layer, node.path.slice(0, i), node.size);
    }
  }
  return [...sizes.values()]
    .sort((a, b) => b.sizeBytes - a.sizeBytes || a.path.length - b.path.length || a.layer - b.layer)
    .slice(0, max);
}

const STDLIB_DIR = /\/lib\/python3\.\d+(?:\/lib-dynload)?$/;

/** Names importable from `lib/python3.X` (and its `lib-dynload`), site-packages excluded. */
export function stdlibNames(tree: ReadonlyMap<string, TreeEntry>): string[] {
  const names = new Set<string>();
  for (const node of tree.values()) {
    const slash = node.path.lastIndexOf('/');
    if (!STDLIB_DIR.test(node.path.slice(0, slash))) continue;
    const base = node.path.slice(slash + 1);
    if (base === 'site-packages' || base === 'dist-packages' || base === 'lib-dynload') continue;
    const name = base.replace(/\.(py|pyc|so)$/, '').replace(/\.cpython-[^.]+$|\.abi3$/, '');
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) names.add(name);
  }
  return [...names].sort();
}

function botocoreServiceCount(
  tree: ReadonlyMap<string, TreeEntry>,
  python: readonly PythonDistribution[],
): number | undefined {
  const botocore = python.find((d) => d.name.toLowerCase() === 'botocore');
  if (!botocore) return undefined;
  const data = `${botocore.location}/botocore/data/`;
  let count = 0;
  for (const node of tree.values()) {
    if (node.type === 'directory' && node.path.startsWith(data) && !node.path.includes('/', data.length)) count++;
  }
  return count;
}

function countSourcesWithoutBytecode(
  tree: ReadonlyMap<string, TreeEntry>,
  python: readonly PythonDistribution[],
): number {
  const locations = [...new Set(python.map((d) => d.location + '/'))];
  const compiled = new Set<string>();
  for (const node of tree.values()) {
    if (node.type !== 'file' || !node.path.endsWith('.pyc')) continue;
    const m = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/.exec(node.path);
    compiled.add(m ? `${m[1]}/${m[2]}.py` : node.path.slice(0, -1));
  }
  let count = 0;
  for (const node of tree.values()) {
    if (node.type !== 'file' || !node.path.endsWith('.py') || compiled.has(node.path)) continue;
    if (locations.some((l) => node.path.startsWith(l))) count++;
  }
  return count;
}

/** Import name → distribution name, from every distribution's top-level names. */
export function importNameOwners(python: readonly PythonDistribution[]): Map<string, string> {
  const owners = new Map<string, string>();
  // Smallest first, so a shared namespace name ends up with the distribution most of it belongs to.
  for (const d of [...python].sort((a, b) => a.sizeBytes - b.sizeBytes)) {
    for (const name of d.importNames) owners.set(name, d.name);
  }
  return owners;
}

import { normalizeImagePath } from '../paths/normalize-image-path.js';
import type { TreeEntry } from './analyze-layers.js';
import { copyrightLicenses } from './debian-copyright.js';
import type { ReadFile } from './python-distributions.js';

/**
 * The Debian packages of an image: `/var/lib/dpkg/status` (or distroless' `/var/lib/dpkg/status.d/<name>`) for names,
 * versions, source packages and `Installed-Size`; `/var/lib/dpkg/info/<name>[:<arch>].list` (or the `.md5sums` beside
 * a `status.d` entry, as distroless images and our minimal runtime ship them) for the files each installed, sized from
 * the final tree (so files deleted later are not counted); `/usr/share/doc/<name>/copyright` for licenses. Pure.
 */

export interface DebianPackage {
  name: string;
  version: string;
  architecture?: string;
  /** The source package as dpkg writes it (`bzip2 (1.0.8-5)`, or just `bzip2`); absent when it is the package's name. */
  source?: string;
  /** License names of its copyright file (Debian's short names, e.g. `GPL-2+`), when the image keeps one. */
  licenses?: string[];
  /** Regular-file bytes of the final tree listed by the package's `.list`; `Installed-Size` × 1024 without one. */
  sizeBytes: number;
  /** Where `sizeBytes` comes from. */
  sizeFrom: 'files' | 'installed-size';
  /** dpkg's own estimate (KiB × 1024). */
  installedSizeBytes?: number;
  fileCount: number;
  /** The layer that brought most of its bytes (-1 when only `Installed-Size` is known). */
  layer: number;
}

interface StatusEntry {
  name: string;
  version: string;
  architecture?: string;
  source?: string;
  installedSizeKiB?: number;
}

/** Parses dpkg status paragraphs, keeping installed packages only (`Status: install ok installed`; absent in status.d). */
export function parseDpkgStatus(text: string): StatusEntry[] {
  const out: StatusEntry[] = [];
  for (const paragraph of text.split(/\r?\n\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of paragraph.split(/\r?\n/)) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m?.[1]) fields.set(m[1].toLowerCase(), m[2] ?? '');
    }
    const name = fields.get('package');
    const status = fields.get('status');
    if (!name || (status !== undefined && !/\binstalled$/.test(status))) continue;
    const size = Number(fields.get('installed-size'));
    const architecture = fields.get('architecture');
    const source = fields.get('source');
    out.push({
      name,
      version: fields.get('version') ?? '',
      ...(architecture && { architecture }),
      ...(source && { source }),
      ...(Number.isFinite(size) && fields.has('installed-size') && { installedSizeKiB: size }),
    });
  }
  return out;
}

const STATUS = '/var/lib/dpkg/status';
const STATUS_D = '/var/lib/dpkg/status.d/';
const MD5SUMS = '.md5sums';

function statusEntries(tree: ReadonlyMap<string, TreeEntry>, read: ReadFile): StatusEntry[] {
  const texts: string[] = [];
  const main = read(STATUS);
  if (main !== undefined) texts.push(main.toString());
  for (const node of tree.values()) {
    // status.d holds one status paragraph per package, and beside it the package's `<name>.md5sums`.
    if (node.type === 'file' && node.path.startsWith(STATUS_D) && !node.path.endsWith(MD5SUMS)) {
      const t = read(node.path);
      if (t !== undefined) texts.push(t.toString());
    }
  }
  return texts.flatMap(parseDpkgStatus);
}

/** The paths of an `md5sums` file (`<md5>  <path without the leading slash>`), made absolute. */
export function parseMd5sums(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('  ');
    if (at > 0 && at + 2 < line.length) out.push(`/${line.slice(at + 2)}`);
  }
  return out;
}

/**
 * The files a package installed, as dpkg names them: `info/<name>[:<arch>].list`, else the `<name>.md5sums` beside
 * its `status.d` entry; undefined when the image keeps neither.
 */
export function packageFiles(entry: { name: string; architecture?: string }, read: ReadFile): string[] | undefined {
  const names = [entry.name, ...(entry.architecture ? [`${entry.name}:${entry.architecture}`] : [])];
  for (const name of names) {
    const list = read(`/var/lib/dpkg/info/${name}.list`);
    if (list !== undefined) return list.toString().split(/\r?\n/).filter(Boolean);
  }
  for (const name of names) {
    const sums = read(`${STATUS_D}${name}${MD5SUMS}`);
    if (sums !== undefined) return parseMd5sums(sums.toString());
  }
  return undefined;
}

/** Reads the image's Debian packages; `[]` when it has no dpkg database. Largest first. */
export function readDebianPackages(tree: ReadonlyMap<string, TreeEntry>, read: ReadFile): DebianPackage[] {
  return statusEntries(tree, read)
    .map((entry) => {
      const pkg = sizePackage(entry, packageFiles(entry, read), tree);
      const copyright = read(resolveDirectoryLinks(`/usr/share/doc/${entry.name}/copyright`, tree));
      const licenses = copyright === undefined ? [] : copyrightLicenses(copyright.toString());
      return licenses.length ? { ...pkg, licenses } : pkg;
    })
    .sort((a, b) => b.sizeBytes - a.sizeBytes || a.name.localeCompare(b.name));
}

function sizePackage(
  entry: StatusEntry,
  list: string[] | undefined,
  tree: ReadonlyMap<string, TreeEntry>,
): DebianPackage {
  const installed = entry.installedSizeKiB === undefined ? undefined : entry.installedSizeKiB * 1024;
  const common = {
    name: entry.name,
    version: entry.version,
    ...(entry.architecture && { architecture: entry.architecture }),
    ...(entry.source && { source: entry.source }),
    ...(installed !== undefined && { installedSizeBytes: installed }),
  };
  if (!list) return { ...common, sizeBytes: installed ?? 0, sizeFrom: 'installed-size', fileCount: 0, layer: -1 };
  const byLayer = new Map<number, number>();
  let sizeBytes = 0;
  let fileCount = 0;
  for (const path of new Set(list)) {
    const node = tree.get(path) ?? tree.get(resolveDirectoryLinks(path, tree));
    if (node?.type !== 'file') continue;
    sizeBytes += node.size;
    fileCount++;
    byLayer.set(node.layer, (byLayer.get(node.layer) ?? 0) + node.size);
  }
  const layer = [...byLayer.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? -1;
  return { ...common, sizeBytes, sizeFrom: 'files', fileCount, layer };
}

/**
 * Follows symlinked directories in a path (`/lib/x` → `/usr/lib/x` when `/lib` links to `usr/lib`, as on merged-/usr
 * systems, whose dpkg lists still name `/lib`). The last segment is not followed.
 */
export function resolveDirectoryLinks(path: string, tree: ReadonlyMap<string, TreeEntry>, hops = 0): string {
  const segs = path.split('/').filter(Boolean);
  let resolved = '';
  for (let i = 0; i < segs.length - 1; i++) {
    const next = `${resolved}/${segs[i]}`;
    const node = tree.get(next);
    if (node?.type === 'symlink' && node.linkname !== undefined && hops < 16) {
      const target = node.linkname.startsWith('/') ? node.linkname : `${resolved}/${node.linkname}`;
      return resolveDirectoryLinks(normalizeImagePath(`${target}/${segs.slice(i + 1).join('/')}`), tree, hops + 1);
    }
    resolved = next;
  }
  return normalizeImagePath(path);
}

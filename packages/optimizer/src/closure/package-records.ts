import { createHash } from 'node:crypto';
import { LIMITS } from '../shared/limits.js';
import { baseName, joinPath, normalizeMemberName, parentOf } from '../tree/tree.js';
import type { Claims } from './claims.js';
import { resolvePath, type Rootfs } from './rootfs.js';

/**
 * What vulnerability scanners read, for the closure's Debian packages — distroless' layout: for every package of
 * dpkg's database that owns a kept file, `/var/lib/dpkg/status.d/<name>` (its status paragraph) and beside it
 * `<name>.md5sums` (the lines of its `info/<name>.md5sums`, and of its conffiles, for the kept files only), and its
 * `/usr/share/doc/<name>/copyright` (licenses) when the input has one; and the distribution's `/etc/os-release` and
 * `/etc/debian_version`, by which scanners pick their advisories. Nothing else of dpkg is kept (no `status`, no
 * `info/`, no dpkg). Trivy, Grype and ECR's scanning read `status.d` and its `.md5sums` this way.
 */

/** A Debian package recorded in `status.d`. */
export interface PackageRecord {
  name: string;
  version: string;
  /** Its kept files (and symlinks). */
  files: number;
}

const DPKG = 'var/lib/dpkg';
const STATUS_D = `${DPKG}/status.d`;
/** What says which distribution this is: the os-release link and its target, and Debian's point release. */
const DISTRIBUTION = ['etc/os-release', 'etc/debian_version'];
/**
 * Files a package's maintainer scripts make from its own files, so no dpkg list names them: the CA bundle is
 * ca-certificates' certificates (`update-ca-certificates`), the loader's cache libc-bin's (`ldconfig`). A kept one
 * is recorded as that package's, with its MD5.
 */
const GENERATED: Readonly<Record<string, string>> = {
  'etc/ssl/certs/ca-certificates.crt': 'ca-certificates',
  'etc/ld.so.cache': 'libc-bin',
};

type Paragraph = { lines: string[]; fields: Map<string, string> };

/** dpkg's status paragraphs: fields by lower-cased name (continuation lines joined with `\n`), and the lines. */
export function parseParagraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l !== '');
    const fields = new Map<string, string>();
    let key = '';
    for (const line of lines) {
      const m = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*)$/.exec(line);
      if (m?.[1]) fields.set((key = m[1].toLowerCase()), m[2] ?? '');
      else if (key && /^[ \t]/.test(line)) fields.set(key, `${fields.get(key) ?? ''}\n${line.trim()}`);
    }
    if (fields.has('package')) out.push({ lines, fields });
  }
  return out;
}

/** The paragraph without its `Conffiles` (the kept ones are in the `.md5sums`): what `status.d/<name>` holds. */
function statusEntry(p: Paragraph): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of p.lines) {
    if (/^[ \t]/.test(line)) {
      if (!skipping) out.push(line);
      continue;
    }
    skipping = /^Conffiles:/i.test(line);
    if (!skipping) out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Where a path dpkg lists (`/lib/x86_64-linux-gnu/libc.so.6`) is in the tree: its directories resolved through
 * symlinks (merged /usr), its last component not. Undefined when its directory is not there.
 */
function treePath(rootfs: Rootfs, listed: string, dirs: Map<string, string | undefined>): string | undefined {
  const p = normalizeMemberName(listed);
  const parent = parentOf(p);
  if (!dirs.has(parent)) dirs.set(parent, parent === '' ? '' : resolvePath(rootfs, parent)?.path);
  const dir = dirs.get(parent);
  return dir === undefined ? undefined : joinPath(dir, baseName(p));
}

/** `/a/b/c` → `/a`, `/a/b`. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** The first of dpkg's `info/<name>.<ext>` or `info/<name>:<arch>.<ext>` files the input has. */
async function infoFile(rootfs: Rootfs, name: string, arch: string | undefined, ext: string): Promise<string> {
  for (const n of [name, ...(arch ? [`${name}:${arch}`] : [])]) {
    const p = `${DPKG}/info/${n}.${ext}`;
    if (rootfs.index.entries.get(p)?.type === 'file')
      return (await rootfs.read(p, LIMITS.metadataBytes)).toString('utf8');
  }
  return '';
}

/** One package's kept entries and the md5sums lines of the kept files (its conffiles' included). */
async function keptOf(rootfs: Rootfs, claims: Claims, p: Paragraph, dirs: Map<string, string | undefined>) {
  const name = p.fields.get('package') ?? '';
  const arch = p.fields.get('architecture');
  const kept = (listed: string) => {
    const at = treePath(rootfs, listed, dirs);
    const type = at === undefined ? undefined : rootfs.index.entries.get(at)?.type;
    return at !== undefined && type !== undefined && type !== 'directory' && claims.kept.has(at);
  };
  const listed = (await infoFile(rootfs, name, arch, 'list')).split('\n').filter((l) => l !== '');
  // A listed path with listed paths below it is one of dpkg's directories (`/lib`, a symlink on merged /usr).
  const directories = new Set(listed.flatMap(ancestors));
  const files = listed.filter((l) => !directories.has(l) && kept(l));
  const sums = (await infoFile(rootfs, name, arch, 'md5sums'))
    .split('\n')
    .filter((l) => l.includes('  ') && kept(l.slice(l.indexOf('  ') + 2)));
  for (const line of (p.fields.get('conffiles') ?? '').split('\n')) {
    const [path, md5] = line.trim().split(/\s+/);
    if (path && md5 && /^[0-9a-f]{32}$/.test(md5) && kept(path)) sums.push(`${md5}  ${normalizeMemberName(path)}`);
  }
  for (const [path, owner] of Object.entries(GENERATED)) {
    if (owner !== name || !kept(path) || rootfs.index.entries.get(path)?.type !== 'file') continue;
    files.push(`/${path}`);
    sums.push(
      `${createHash('md5')
        .update(await rootfs.read(path, LIMITS.metadataBytes))
        .digest('hex')}  ${path}`,
    );
  }
  return { name, arch, files, sums };
}

/**
 * Keeps the distribution's os-release and point release, and for every Debian package that owns a kept entry its
 * copyright file; returns the `status.d` files to write (by path) and the packages recorded. Call it once everything
 * else is kept. An input without dpkg's `status` records nothing.
 */
export async function recordPackages(
  rootfs: Rootfs,
  claims: Claims,
): Promise<{ files: Map<string, Buffer>; packages: PackageRecord[] }> {
  for (const p of DISTRIBUTION) claims.keepResolved(p, 'system');
  const files = new Map<string, Buffer>();
  const packages: PackageRecord[] = [];
  if (rootfs.index.entries.get(`${DPKG}/status`)?.type !== 'file') return { files, packages };
  const dirs = new Map<string, string | undefined>();
  const status = (await rootfs.read(`${DPKG}/status`, LIMITS.metadataBytes)).toString('utf8');
  for (const p of parseParagraphs(status)) {
    if (!/\binstalled$/.test(p.fields.get('status') ?? '')) continue;
    const first = await keptOf(rootfs, claims, p, dirs);
    if (first.files.length === 0 && first.sums.length === 0) continue;
    // Its copyright file comes along, and is listed with the package's other kept files.
    const {
      name,
      arch,
      files: owned,
      sums,
    } = claims.keepResolved(`usr/share/doc/${first.name}/copyright`, 'system')
      ? await keptOf(rootfs, claims, p, dirs)
      : first;
    const key = files.has(`${STATUS_D}/${name}`) && arch ? `${name}:${arch}` : name;
    files.set(`${STATUS_D}/${key}`, Buffer.from(statusEntry(p)));
    files.set(`${STATUS_D}/${key}.md5sums`, Buffer.from(sums.length ? `${sums.join('\n')}\n` : ''));
    packages.push({ name, version: p.fields.get('version') ?? '', files: Math.max(owned.length, sums.length) });
  }
  return { files, packages: packages.sort((a, b) => a.name.localeCompare(b.name)) };
}

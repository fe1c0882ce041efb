import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { NotSitePackagesError, SystemDirectoryError } from '../shared/errors.js';
import { errnoOf } from '../shared/limits.js';

/** What a directory given to the optimizer is. */
export type TargetKind = 'venv' | 'site-packages' | 'layer';

/** A directory checked by {@link checkTarget}: its real path (every symlink resolved) and what it is. */
export interface Target {
  root: string;
  kind: TargetKind;
}

/** Top-level directories of a Linux system: never an environment, never an image layer's root. */
const SYSTEM_DIRS = new Set(
  ['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/media', '/mnt', '/opt', '/proc', '/root']
    .concat(['/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/lib', '/usr/local', '/usr/share', '/var'])
    .concat(['/usr/local/lib', '/usr/lib64', '/var/lib']),
);

const isFile = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
const isDir = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Home directories: this process's, and every account's of /etc/passwd (real paths), with the account. */
function homes(): Map<string, string> {
  const out = new Map<string, string>();
  const add = (dir: string | undefined, who: string): void => {
    if (!dir || !path.isAbsolute(dir)) return;
    try {
      const real = realpathSync(dir);
      if (real !== '/' && !out.has(real)) out.set(real, who);
    } catch {
      // An account whose home does not exist.
    }
  };
  add(homedir(), 'this user');
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No accounts file: only this process's home is known.
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    add(f[5], `${f[0]} (/etc/passwd)`);
  }
  return out;
}

/**
 * A Python installation prefix: `lib/pythonX.Y/os.py` or `bin/pythonX*` right below it, in real directories (a merged
 * /usr image root links `bin` and `lib` to `usr/`: it is a layer, not a prefix).
 */
function pythonPrefix(root: string): string | undefined {
  const lib = path.join(root, 'lib');
  for (const d of isDir(lib) ? list(lib) : []) {
    if (/^python\d/.test(d) && isFile(path.join(lib, d, 'os.py'))) return `lib/${d}/os.py`;
  }
  const binDir = path.join(root, 'bin');
  const bin = (isDir(binDir) ? list(binDir) : []).find((b) => /^python\d[\d.]*$/.test(b));
  return bin === undefined ? undefined : `bin/${bin}`;
}

/** Why `root` is refused, or undefined for a directory that may be an image layer's root. */
function systemKind(root: string): string | undefined {
  if (root === '/') return 'the root of the running system';
  const prefix = pythonPrefix(root);
  if (prefix !== undefined) return `a Python installation prefix (found ${prefix})`;
  const home = homes().get(root);
  if (home !== undefined) return `the home directory of ${home}`;
  if (SYSTEM_DIRS.has(root)) return 'a system directory';
  return undefined;
}

/**
 * Resolve the directory the optimizer is pointed at and say what it is: a virtual environment (`pyvenv.cfg` in it), a
 * site-packages directory (a `*.dist-info` directory in it, as in a `pip install --target` dir), or the root of an
 * image layer holding one further down. A system directory is refused before anything below it is read.
 * @throws {NotSitePackagesError} when it is not a readable directory
 * @throws {SystemDirectoryError} when it is the system root, a Python installation prefix, a home directory or a
 *   top-level system directory, unless `allowSystem`
 */
export function checkTarget(dir: string, allowSystem = false): Target {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (err) {
    throw new NotSitePackagesError(dir, `cannot read it (${errnoOf(err)})`);
  }
  if (!statSync(root).isDirectory()) throw new NotSitePackagesError(dir, 'it is not a directory');
  if (isFile(path.join(root, 'pyvenv.cfg'))) return { root, kind: 'venv' };
  if (list(root).some((n) => n.endsWith('.dist-info') && isDir(path.join(root, n)))) {
    return { root, kind: 'site-packages' };
  }
  const found = allowSystem ? undefined : systemKind(root);
  if (found !== undefined) throw new SystemDirectoryError(dir === root ? dir : `${dir} (${root})`, found);
  return { root, kind: 'layer' };
}

/** A user's own site-packages (`~/.local/lib/pythonX.Y/site-packages`), found below a layer root. */
export function userSitePackages(sitePackages: string): boolean {
  return sitePackages.split('/').includes('.local');
}

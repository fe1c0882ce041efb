import { joinPath, normalizeMemberName, parentOf } from '../tree/tree.js';
import { ClosureError } from './closure-error.js';
import { isElf } from './elf.js';
import { resolvePath, type Rootfs } from './rootfs.js';
import { LIMITS } from '../shared/limits.js';

/** The Python a virtual environment runs, as found inside a root filesystem (paths relative to its root). */
export interface Interpreter {
  /** The virtual environment's root. */
  venv: string;
  /** `major.minor`, e.g. `3.11`. */
  version: string;
  /** The interpreter binary, every symlink resolved (`usr/bin/python3.11`, `usr/local/bin/python3.11`). */
  executable: string;
  /** The symlinks from the venv's `bin/python` to the binary. */
  links: string[];
  /** The standard library directory (`usr/lib/python3.11`, `usr/local/lib/python3.11`). */
  stdlib: string;
}

/** `key = value` lines of pyvenv.cfg. */
export function parsePyvenvCfg(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}

function findVenv(rootfs: Rootfs, venv: string | undefined): string {
  if (venv !== undefined) {
    const root = normalizeMemberName(venv);
    if (!rootfs.index.entries.has(joinPath(root, 'pyvenv.cfg'))) {
      throw new ClosureError(`no virtual environment at /${root} in ${rootfs.name} (no pyvenv.cfg)`);
    }
    return root;
  }
  const found = [...rootfs.index.entries.keys()].filter((p) => p === 'pyvenv.cfg' || p.endsWith('/pyvenv.cfg'));
  if (found.length !== 1) {
    const which = found.length === 0 ? 'none' : found.map((p) => `/${parentOf(p)}`).join(', ');
    throw new ClosureError(`expected one virtual environment (pyvenv.cfg) in ${rootfs.name}, found ${which}; name it`);
  }
  return parentOf(found[0] ?? '');
}

/** `major.minor` from pyvenv.cfg, else from the venv's `lib/pythonX.Y`. */
function versionOf(rootfs: Rootfs, venv: string, cfg: Record<string, string>): string {
  const fromCfg = /^(\d+\.\d+)/.exec(cfg.version ?? cfg.version_info ?? '')?.[1];
  if (fromCfg) return fromCfg;
  for (const d of rootfs.index.children.get(joinPath(venv, 'lib')) ?? []) {
    const m = /\/python(\d+\.\d+)$/.exec(d);
    if (m?.[1]) return m[1];
  }
  throw new ClosureError(`cannot tell the Python version of the virtual environment /${venv}`);
}

/**
 * Find the interpreter of the virtual environment (given, or the only one in the tree) and its standard library:
 * follow `bin/python` (or `python3`, `python3.X`, or pyvenv.cfg's `home`) through every symlink to an ELF binary;
 * the standard library is `<prefix>/lib/pythonX.Y` next to its `bin`, with its `os.py` landmark.
 * @throws {ClosureError} when the venv, the interpreter or the standard library is not there
 */
export async function findInterpreter(rootfs: Rootfs, venvOption?: string): Promise<Interpreter> {
  const venv = findVenv(rootfs, venvOption);
  const cfg = parsePyvenvCfg((await rootfs.read(joinPath(venv, 'pyvenv.cfg'), LIMITS.metadataBytes)).toString('utf8'));
  const version = versionOf(rootfs, venv, cfg);
  const home = cfg.home ? normalizeMemberName(cfg.home) : undefined;
  const candidates = ['python', 'python3', `python${version}`].map((n) => joinPath(venv, 'bin', n));
  if (home !== undefined) candidates.push(joinPath(home, `python${version}`), joinPath(home, 'python3'));
  for (const candidate of candidates) {
    const resolved = resolvePath(rootfs, candidate);
    if (resolved?.entry?.type !== 'file' && resolved?.entry?.hardlinkTo === undefined) continue;
    if (!isElf(await rootfs.readRange(resolved.path, 0, 4))) continue;
    const stdlib = joinPath(parentOf(parentOf(resolved.path)), 'lib', `python${version}`);
    if (!['os.py', 'os.pyc'].some((f) => rootfs.index.entries.has(joinPath(stdlib, f)))) {
      throw new ClosureError(`no standard library at /${stdlib} (no os.py) for the interpreter /${resolved.path}`);
    }
    return { venv, version, executable: resolved.path, links: resolved.links, stdlib };
  }
  throw new ClosureError(
    `no interpreter for the virtual environment /${venv}: none of ${candidates.map((c) => `/${c}`).join(', ')} leads to an ELF binary`,
  );
}

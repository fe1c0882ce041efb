import { joinPath, normalizeMemberName, parentOf } from '../tree/tree.js';
import { ClosureError } from './closure-error.js';
import { readElf, type ElfInfo } from './elf.js';
import { lookupLdCache, type LdCacheEntry } from './ld-cache.js';
import { resolvePath, type Rootfs } from './rootfs.js';

/** How the dynamic loader finds a library. */
export type LibraryVia =
  | 'program-interpreter' // PT_INTERP of the executable
  | 'rpath' // DT_RPATH of the object or of the objects that loaded it
  | 'runpath' // DT_RUNPATH of the object
  | 'default-dirs' // the loader's default directories
  | 'ld.so.cache' // only /etc/ld.so.cache knows it
  | 'dlopen' // not in any DT_NEEDED: glibc itself dlopens it
  | 'path'; // a DT_NEEDED with a slash

/** A shared library in the closure, and why it is there. */
export interface ClosureLibrary {
  /** The file, every symlink resolved. */
  path: string;
  /** The symlinks the loader passes to reach it (`lib` → `usr/lib`, `libz.so.1` → `libz.so.1.2.13`). */
  links: string[];
  soname?: string;
  via: LibraryVia;
  /** The ELF files that ask for it (DT_NEEDED or PT_INTERP), or the reason it is dlopened. */
  neededBy: string[];
}

/** What to compute the closure of. Paths are relative to the root filesystem. */
export interface ElfClosureInput {
  rootfs: Rootfs;
  /** The program (every symlink resolved): its PT_INTERP, DT_NEEDED and search paths start the closure. */
  executable: string;
  /** Objects the program loads with dlopen by path (extension modules). */
  modules: readonly string[];
  /** Libraries glibc dlopens by name, kept when present (e.g. `libgcc_s.so.1`, for pthread_exit). */
  dlopen?: readonly { name: string; why: string }[];
  /** The loader's default directories; default: Debian's for the executable's machine. */
  defaultDirs?: readonly string[];
  /** Entries of the tree's /etc/ld.so.cache, when it has one. */
  ldCache?: readonly LdCacheEntry[];
}

export interface ElfClosure {
  /** Every library, the dynamic loader first, then by path. */
  libraries: ClosureLibrary[];
  /** Whether a library is only found through /etc/ld.so.cache (then the cache must stay). */
  needsLdCache: boolean;
  warnings: string[];
}

/** Debian multiarch triplets by ELF machine (64-bit). */
const TRIPLETS: Readonly<Record<number, string>> = { 62: 'x86_64-linux-gnu', 183: 'aarch64-linux-gnu' };

/** The default directories of Debian's glibc loader (`ld.so --help`: "system search path"). */
export function defaultLibraryDirs(machine: number): string[] {
  const triplet = TRIPLETS[machine];
  return [...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []), '/lib', '/usr/lib'];
}

/** A loaded object: its file, the directory it was loaded from (its `$ORIGIN`), its ELF facts and its loader. */
interface LoadedObject {
  path: string;
  origin: string;
  info: ElfInfo;
  loader?: LoadedObject;
}

interface Found {
  asLoaded: string;
  real: string;
  links: string[];
  info: ElfInfo;
}

/** Shared state of one closure computation. */
interface State {
  input: ElfClosureInput;
  exe: LoadedObject;
  defaultDirs: readonly string[];
  parsed: Map<string, ElfInfo>;
  /** Libraries by real path. */
  libraries: Map<string, ClosureLibrary>;
  /** Names and sonames of loaded libraries → real path (the loader reuses an object loaded under that name). */
  loadedNames: Map<string, string>;
  needsLdCache: boolean;
  warnings: string[];
}

/** The ELF facts of a file of the root filesystem, read in parts. */
function elfInfo(rootfs: Rootfs, real: string): Promise<ElfInfo> {
  return readElf((at, length) => rootfs.readRange(real, at, length), rootfs.fileSize(real));
}

async function elfOf(state: State, real: string): Promise<ElfInfo> {
  let info = state.parsed.get(real);
  if (!info) {
    try {
      info = await elfInfo(state.input.rootfs, real);
    } catch (err) {
      throw new ClosureError(`/${real}: ${(err as Error).message}`, { cause: err });
    }
    state.parsed.set(real, info);
  }
  return info;
}

/** The search directories an RPATH/RUNPATH names, `$ORIGIN` expanded; other tokens are skipped with a warning. */
function expandDirs(state: State, dirs: readonly string[], obj: LoadedObject): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const expanded = d.replace(/\$(?:ORIGIN\b|\{ORIGIN\})/g, `/${obj.origin}`);
    if (expanded.includes('$') || !expanded.startsWith('/')) {
      if (d !== '') state.warnings.push(`/${obj.path}: search path '${d}' not followed (only $ORIGIN is expanded)`);
      continue;
    }
    out.push(expanded);
  }
  return out;
}

/** The file at `path`, if it is an ELF object the loader would accept for the program (same class and machine). */
async function lookAt(state: State, path: string): Promise<Found | undefined> {
  const asLoaded = normalizeMemberName(path);
  const r = resolvePath(state.input.rootfs, asLoaded);
  if (!r?.entry || (r.entry.type !== 'file' && r.entry.hardlinkTo === undefined)) return undefined;
  const info = await elfOf(state, r.path).catch(() => undefined);
  if (!info || info.class !== state.exe.info.class || info.machine !== state.exe.info.machine) return undefined;
  return { asLoaded, real: r.path, links: r.links, info };
}

async function searchDirs(state: State, dirs: readonly string[], name: string): Promise<Found | undefined> {
  for (const d of dirs) {
    const found = await lookAt(state, joinPath(d, name));
    if (found) return found;
  }
  return undefined;
}

/** The DT_RPATH directories the loader tries for `obj`'s needs: its own, then its loaders' (up to the program). */
function rpathDirs(state: State, obj: LoadedObject): string[] {
  if (obj.info.runpath.length > 0) return [];
  const dirs: string[] = [];
  let sawExe = false;
  for (let o: LoadedObject | undefined = obj; o; o = o.loader) {
    sawExe ||= o === state.exe;
    if (o.info.runpath.length === 0) dirs.push(...expandDirs(state, o.info.rpath, o));
  }
  if (!sawExe && state.exe.info.runpath.length === 0) dirs.push(...expandDirs(state, state.exe.info.rpath, state.exe));
  return dirs;
}

/** ld.so.cache, then the default directories; the cache counts as needed only when the directories miss. */
async function searchSystem(
  state: State,
  obj: LoadedObject,
  name: string,
): Promise<(Found & { via: LibraryVia }) | undefined> {
  if (obj.info.noDefaultLib) return undefined;
  const inDirs = await searchDirs(state, state.defaultDirs, name);
  const cached = state.input.ldCache ? lookupLdCache(state.input.ldCache, name, state.exe.info.machine) : undefined;
  const fromCache = cached !== undefined ? await lookAt(state, cached) : undefined;
  if (fromCache && fromCache.real !== inDirs?.real) return { ...fromCache, via: 'ld.so.cache' };
  return inDirs ? { ...inDirs, via: 'default-dirs' } : undefined;
}

/** Where the loader finds `name` for `obj` (glibc's order: loaded objects, RPATH, RUNPATH, cache, default dirs). */
async function findLibrary(
  state: State,
  obj: LoadedObject,
  name: string,
): Promise<(Found & { via: LibraryVia }) | 'loaded' | undefined> {
  if (state.loadedNames.has(name)) return 'loaded';
  if (name.includes('/')) {
    const found = await lookAt(state, name);
    return found && { ...found, via: 'path' };
  }
  const viaRpath = await searchDirs(state, rpathDirs(state, obj), name);
  if (viaRpath) return { ...viaRpath, via: 'rpath' };
  const viaRunpath = await searchDirs(state, expandDirs(state, obj.info.runpath, obj), name);
  if (viaRunpath) return { ...viaRunpath, via: 'runpath' };
  return searchSystem(state, obj, name);
}

function record(state: State, found: Found & { via: LibraryVia }, neededBy: string, name: string): boolean {
  for (const n of [name, found.info.soname]) if (n) state.loadedNames.set(n, found.real);
  const known = state.libraries.get(found.real);
  if (known) {
    if (!known.neededBy.includes(neededBy)) known.neededBy.push(neededBy);
    for (const l of found.links) if (!known.links.includes(l)) known.links.push(l);
    return false;
  }
  if (found.via === 'ld.so.cache') state.needsLdCache = true;
  state.libraries.set(found.real, {
    path: found.real,
    links: [...found.links],
    ...(found.info.soname ? { soname: found.info.soname } : {}),
    via: found.via,
    neededBy: [neededBy],
  });
  return true;
}

/** Load `root`'s dependencies breadth first, as the loader does. */
async function loadDependencies(state: State, root: LoadedObject): Promise<void> {
  const queue = [root];
  for (let obj = queue.shift(); obj; obj = queue.shift()) {
    for (const name of obj.info.needed) {
      const found = await findLibrary(state, obj, name);
      if (found === undefined) throw new ClosureError(`/${obj.path} needs ${name}, which the loader would not find`);
      const real = found === 'loaded' ? state.loadedNames.get(name) : found.real;
      if (found === 'loaded') {
        const lib = real !== undefined ? state.libraries.get(real) : undefined;
        if (lib && !lib.neededBy.includes(obj.path)) lib.neededBy.push(obj.path);
        continue;
      }
      if (record(state, found, obj.path, name)) {
        queue.push({ path: found.real, origin: parentOf(found.asLoaded), info: found.info, loader: obj });
      }
    }
  }
}

async function loadInterpreter(state: State): Promise<void> {
  const interp = state.exe.info.interpreter;
  if (interp === undefined) return; // statically linked
  const found = await lookAt(state, interp);
  if (!found)
    throw new ClosureError(`/${state.exe.path} asks for the program interpreter ${interp}, which is not there`);
  record(state, { ...found, via: 'program-interpreter' }, state.exe.path, interp);
}

/**
 * The shared libraries a program and the extension modules it loads need, found as glibc's dynamic loader finds
 * them (PT_INTERP; DT_NEEDED breadth first through DT_RPATH, DT_RUNPATH with `$ORIGIN`, /etc/ld.so.cache and the
 * default directories; objects already loaded are reused by name or soname), with the symlinks on the way and the
 * files that need each one.
 * @throws {ClosureError} when an object is not ELF, or a library it needs cannot be found
 */
export async function computeElfClosure(input: ElfClosureInput): Promise<ElfClosure> {
  const parsed = new Map<string, ElfInfo>();
  const exeInfo = await elfInfo(input.rootfs, input.executable);
  parsed.set(input.executable, exeInfo);
  const exe: LoadedObject = { path: input.executable, origin: parentOf(input.executable), info: exeInfo };
  const state: State = {
    input,
    exe,
    defaultDirs: input.defaultDirs ?? defaultLibraryDirs(exeInfo.machine),
    parsed,
    libraries: new Map(),
    loadedNames: new Map(),
    needsLdCache: false,
    warnings: [],
  };
  await loadInterpreter(state);
  await loadDependencies(state, exe);
  for (const module of input.modules) {
    await loadDependencies(state, {
      path: module,
      origin: parentOf(module),
      info: await elfOf(state, module),
      loader: exe,
    });
  }
  await loadDlopened(state);
  const loader = [...state.libraries.values()].filter((l) => l.via === 'program-interpreter');
  const rest = [...state.libraries.values()].filter((l) => l.via !== 'program-interpreter');
  for (const l of state.libraries.values()) l.neededBy.sort();
  rest.sort((a, b) => a.path.localeCompare(b.path));
  return { libraries: [...loader, ...rest], needsLdCache: state.needsLdCache, warnings: state.warnings };
}

async function loadDlopened(state: State): Promise<void> {
  for (const { name, why } of state.input.dlopen ?? []) {
    const found = await findLibrary(state, state.exe, name);
    if (found === undefined) {
      state.warnings.push(`${name} is not in the root filesystem (${why})`);
      continue;
    }
    if (found === 'loaded') continue;
    if (record(state, { ...found, via: 'dlopen' }, why, name)) {
      await loadDependencies(state, {
        path: found.real,
        origin: parentOf(found.asLoaded),
        info: found.info,
        loader: state.exe,
      });
    }
  }
}

import type { DroppedMember } from '../archive/member-names.js';
import type { Totals } from '../report/report.js';
import { isWithin } from '../tree/tree-index.js';
import { joinPath, normalizeMemberName, parentOf } from '../tree/tree.js';
import { selectAccounts, type Accounts } from './accounts.js';
import { Claims, type ClosurePart } from './claims.js';
import { ClosureError } from './closure-error.js';
import type { ClosureOptions } from '../profile/closure-options.js';
import { computeElfClosure, type ClosureLibrary } from './elf-closure.js';
import { isElf } from './elf.js';
import { checkImports, sitePackagesOf, type CodeTree } from './import-check.js';
import { findInterpreter, type Interpreter } from './interpreter.js';
import { parseLdCache, type LdCacheEntry } from './ld-cache.js';
import { recordPackages, type PackageRecord } from './package-records.js';
import type { Rootfs } from './rootfs.js';
import { planStdlib, type DroppedImport, type DroppedModule, type StdlibPlan } from './stdlib.js';
import { LIMITS } from '../shared/limits.js';

/** What the closure kept, part by part, and why. Paths are absolute. */
export interface ClosureReport {
  interpreter: { executable: string; version: string; links: string[]; stdlib: string; venv: string };
  /** The runtime user whose accounts lines were kept. */
  user: { name: string; uid: number; gid: number };
  /** The whole input, the minimal tree, and what of it was written (without the `omit` trees). */
  before: Totals;
  after: Totals;
  written: Totals;
  parts: Record<ClosurePart, Totals>;
  /** Every shared library with its size, how the loader finds it, and the ELF files that need it. */
  libraries: (ClosureLibrary & { bytes: number })[];
  /** Whether /etc/ld.so.cache stays, and why. */
  ldSoCache: { kept: boolean; why: string };
  caBundle?: string;
  stdlib: {
    dropped: DroppedModule[];
    /** Bytes and files of the standard library directory left out (modules, bytecode, site-packages). */
    droppedTotals: Totals;
  };
  /** Kept files that import a dropped module inside a block (a failure only if that code runs). */
  conditionalImports: DroppedImport[];
  /** The Debian packages that own kept files, recorded for scanners in `/var/lib/dpkg/status.d/`. */
  packages: PackageRecord[];
  /** Members of the input tar left out because they would land outside the root (`dropUnsafeMembers`). */
  droppedMembers: DroppedMember[];
  warnings: string[];
}

/** A complete, not yet written, minimal tree. */
export interface ClosurePlan {
  /** Every kept path (files, symlinks, directories), relative to the root. */
  keep: ReadonlySet<string>;
  /** Files written with new content (/etc/passwd, /etc/group). */
  rewrites: ReadonlyMap<string, Buffer>;
  /** Files written that the input does not have (`status.d` records), root-owned, mode 0644; also in `keep`. */
  added: ReadonlyMap<string, Buffer>;
  /** The directory written empty with mode 1777. */
  tmp: string;
  report: ClosureReport;
}

const abs = (p: string): string => `/${p}`;

/**
 * Where OpenSSL looks by default (`OPENSSLDIR`), read from libcrypto's version string, a chunk at a time (the chunks
 * overlap by more than the string is long).
 */
async function opensslDir(rootfs: Rootfs, libcrypto: string): Promise<string | undefined> {
  const CHUNK = 1 << 20;
  const OVERLAP = 4096;
  const size = rootfs.fileSize(libcrypto);
  for (let at = 0; at < size; at += CHUNK - OVERLAP) {
    const buf = await rootfs.readRange(libcrypto, at, CHUNK);
    const found = buf.indexOf('OPENSSLDIR: "');
    const end = found < 0 ? -1 : buf.indexOf('"', found + 13);
    if (end >= 0) return buf.toString('latin1', found + 13, end);
    if (at + buf.length >= size) break;
  }
  return undefined;
}

/** CA bundle, OpenSSL config and certs dir link where the kept libcrypto looks for them. */
async function keepTls(
  rootfs: Rootfs,
  claims: Claims,
  libraries: readonly ClosureLibrary[],
  options: ClosureOptions,
): Promise<string | undefined> {
  if (options.caBundle !== undefined) {
    const kept = claims.keepResolved(options.caBundle, 'system');
    if (kept === undefined) throw new ClosureError(`the CA bundle ${options.caBundle} is not in ${rootfs.name}`);
    return abs(kept);
  }
  const libcrypto = libraries.find((l) => /^libcrypto\.so/.test(l.soname ?? ''));
  const dir = libcrypto ? await opensslDir(rootfs, libcrypto.path) : undefined;
  if (dir === undefined) return undefined;
  claims.keepResolved(joinPath(dir, 'openssl.cnf'), 'system');
  // The hashed certificates directory: its link only (the bundle holds the same certificates).
  const certs = normalizeMemberName(joinPath(dir, 'certs'));
  if (rootfs.index.entries.get(certs)?.type === 'symlink') claims.keep(certs, 'system');
  const ca = claims.keepResolved(joinPath(dir, 'cert.pem'), 'system');
  return ca === undefined ? undefined : abs(ca);
}

async function keepAccounts(rootfs: Rootfs, claims: Claims, user: string | number) {
  const [passwd, group] = await Promise.all(
    ['etc/passwd', 'etc/group'].map(async (p) => {
      const real = claims.keepResolved(p, 'system');
      if (real === undefined) throw new ClosureError(`${rootfs.name} has no /${p}`);
      return { real, text: (await rootfs.read(real, LIMITS.metadataBytes)).toString('utf8') };
    }),
  );
  if (!passwd || !group) throw new ClosureError('internal error: accounts files');
  const accounts = selectAccounts(passwd.text, group.text, user);
  const rewrites = new Map([
    [passwd.real, Buffer.from(accounts.passwd)],
    [group.real, Buffer.from(accounts.group)],
  ]);
  return { accounts, rewrites };
}

async function readLdCache(rootfs: Rootfs, warnings: string[]): Promise<LdCacheEntry[] | undefined> {
  if (rootfs.index.entries.get('etc/ld.so.cache')?.type !== 'file') return undefined;
  try {
    return parseLdCache(await rootfs.read('etc/ld.so.cache', LIMITS.metadataBytes));
  } catch (err) {
    warnings.push(`/etc/ld.so.cache not read: ${(err as Error).message}`);
    return undefined;
  }
}

/** ELF files in the kept trees (by name: `*.so`, `*.so.N`), loaded by the interpreter with dlopen. */
async function elfModules(rootfs: Rootfs, roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of rootfs.index.entries.values()) {
    if (e.type !== 'file' || !/\.so(?:\.[\d.]+)?$/.test(e.path) || !roots.some((r) => isWithin(e.path, r))) continue;
    if (isElf(await rootfs.readRange(e.path, 0, 4))) out.push(e.path);
  }
  return out.sort();
}

function interpreterReport(interp: Interpreter): ClosureReport['interpreter'] {
  return {
    executable: abs(interp.executable),
    version: interp.version,
    links: interp.links.map(abs),
    stdlib: abs(interp.stdlib),
    venv: abs(interp.venv),
  };
}

/** Why glibc dlopens a library no DT_NEEDED names. */
const DLOPEN_WHY: Readonly<Record<string, string>> = {
  'libgcc_s.so.1': 'glibc dlopens it to unwind threads (pthread_exit, pthread_cancel)',
};

/** Keep the interpreter, its shared libraries (with the extension modules') and the loader's cache if needed. */
async function keepBinaries(
  rootfs: Rootfs,
  claims: Claims,
  interp: Interpreter,
  modules: string[],
  options: ClosureOptions,
) {
  for (const l of interp.links) if (!isWithin(l, interp.venv)) claims.keep(l, 'interpreter');
  claims.keep(interp.executable, 'interpreter');
  const warnings: string[] = [];
  const ldCache = await readLdCache(rootfs, warnings);
  const elf = await computeElfClosure({
    rootfs,
    executable: interp.executable,
    modules,
    dlopen: options.libraries.dlopen.map((name) => ({ name, why: DLOPEN_WHY[name] ?? 'libraries.dlopen' })),
    ...(options.libraries.defaultDirs ? { defaultDirs: options.libraries.defaultDirs } : {}),
    ...(ldCache ? { ldCache } : {}),
  });
  for (const lib of elf.libraries) {
    for (const l of lib.links) claims.keep(l, 'sharedLibraries');
    claims.keep(lib.path, 'sharedLibraries');
  }
  const cached = elf.libraries.filter((l) => l.via === 'ld.so.cache');
  if (cached.length > 0) claims.keepResolved('etc/ld.so.cache', 'system');
  const ldSoCache = {
    kept: cached.length > 0,
    why:
      cached.length > 0
        ? `only /etc/ld.so.cache finds ${cached.map((l) => abs(l.path)).join(', ')}`
        : "every library resolves through DT_RUNPATH/DT_RPATH or the loader's default directories",
  };
  return { libraries: elf.libraries, ldSoCache, warnings: [...warnings, ...elf.warnings] };
}

function totalsOf(
  rootfs: Rootfs,
  include: (path: string) => boolean,
  sizeOf?: (path: string) => number | undefined,
): Totals {
  const t = { bytes: 0, files: 0 };
  for (const e of rootfs.index.entries.values()) {
    if (e.type === 'directory' || !include(e.path)) continue;
    t.bytes += sizeOf?.(e.path) ?? e.size;
    t.files++;
  }
  return t;
}

/** Everything the report says, gathered by {@link planClosure}. */
interface ReportInput {
  rootfs: Rootfs;
  claims: Claims;
  interp: Interpreter;
  stdlib: StdlibPlan;
  binaries: Awaited<ReturnType<typeof keepBinaries>>;
  accounts: Accounts;
  rewrites: ReadonlyMap<string, Buffer>;
  caBundle: string | undefined;
  appImports: DroppedImport[];
  packages: PackageRecord[];
}

function buildReport(r: ReportInput): ClosureReport {
  const { rootfs, claims, interp } = r;
  const parts = claims.totals((p) => r.rewrites.get(p)?.length ?? rootfs.index.entries.get(p)?.size ?? 0);
  const sum = (a: Totals, t: Totals): Totals => ({ bytes: a.bytes + t.bytes, files: a.files + t.files });
  const absNeed = (n: string): string => (n.includes(' ') ? n : abs(n)); // a dlopen reason, or a path
  return {
    interpreter: interpreterReport(interp),
    user: { name: r.accounts.name, uid: r.accounts.uid, gid: r.accounts.gid },
    before: totalsOf(rootfs, () => true),
    after: Object.values(parts).reduce(sum, { bytes: 0, files: 0 }),
    written: { bytes: 0, files: 0 },
    parts,
    libraries: r.binaries.libraries.map((l) => ({
      ...l,
      path: abs(l.path),
      links: l.links.map(abs),
      neededBy: l.neededBy.map(absNeed),
      bytes: rootfs.index.entries.get(l.path)?.size ?? 0,
    })),
    ldSoCache: r.binaries.ldSoCache,
    ...(r.caBundle ? { caBundle: r.caBundle } : {}),
    stdlib: {
      dropped: r.stdlib.dropped,
      droppedTotals: totalsOf(rootfs, (p) => isWithin(p, interp.stdlib) && !claims.kept.has(p)),
    },
    conditionalImports: [...r.stdlib.conditionalImports, ...r.appImports].map((i) => ({ ...i, file: abs(i.file) })),
    packages: r.packages,
    droppedMembers: [...rootfs.dropped],
    warnings: r.binaries.warnings,
  };
}

/** The app trees to keep, each checked to exist. */
function appTrees(rootfs: Rootfs, keep: readonly string[]): string[] {
  const app = keep.map(normalizeMemberName);
  for (const a of app) {
    if (!rootfs.index.dirs.has(a) && !rootfs.index.entries.has(a))
      throw new ClosureError(`${rootfs.name} has no /${a} to keep`);
  }
  return app;
}

/**
 * Compute the minimal tree of a root filesystem for its virtual environment: the interpreter and its symlinks, its
 * shared libraries and the extension modules' (ELF closure, with why each is there), the standard library minus
 * what a service never imports (checked against the imports of everything kept), the venv, the app, the CA bundle,
 * the runtime user's accounts lines, an empty /tmp, and what scanners read to see the Debian packages behind the kept
 * files (`package-records.ts`). Nothing is written.
 * @throws {ClosureError} when something the tree needs is missing, or kept code imports a dropped module
 */
export async function planClosure(rootfs: Rootfs, options: ClosureOptions): Promise<ClosurePlan> {
  const claims = new Claims(rootfs);
  const interp = await findInterpreter(rootfs, options.venv);
  const stdlib = await planStdlib(rootfs, interp.stdlib, [...options.stdlib.exclude, ...options.stdlib.alsoExclude]);
  const app = appTrees(rootfs, options.keep);
  const trees: CodeTree[] = [
    { root: interp.venv, importRoot: sitePackagesOf(rootfs, interp.venv, interp.version) },
    ...app.map((a) => ({ root: a, importRoot: a })),
  ];
  const appImports = await checkImports(rootfs, trees, stdlib.droppedNames);
  const modules = [...stdlib.extensions, ...(await elfModules(rootfs, [interp.venv, ...app]))];
  const binaries = await keepBinaries(rootfs, claims, interp, modules, options);
  claims.keepAll(stdlib.kept, 'stdlib');
  claims.keepTree(interp.venv, 'venv');
  for (const a of app) claims.keepTree(a, 'app');
  const { accounts, rewrites } = await keepAccounts(rootfs, claims, options.user);
  const caBundle = await keepTls(rootfs, claims, binaries.libraries, options);
  for (const f of options.files) {
    const real = claims.keepResolved(f, 'system');
    if (real !== undefined && rootfs.index.dirs.has(real)) claims.keepTree(real, 'system');
  }
  const records = await recordPackages(rootfs, claims);
  const keep = claims.withParents(options.omit.map(normalizeMemberName));
  keep.add('tmp');
  for (const p of records.files.keys()) for (let d = p; d !== '' && !keep.has(d); d = parentOf(d)) keep.add(d);
  const report = buildReport({
    ...{ rootfs, claims, interp, stdlib, binaries, accounts, rewrites, caBundle, appImports },
    packages: records.packages,
  });
  // The status.d records are written too: system files the input did not have.
  const added = { bytes: [...records.files.values()].reduce((a, b) => a + b.length, 0), files: records.files.size };
  const plus = (t: Totals): Totals => ({ bytes: t.bytes + added.bytes, files: t.files + added.files });
  report.parts.system = plus(report.parts.system);
  report.after = plus(report.after);
  report.written = plus(
    totalsOf(
      rootfs,
      (p) => keep.has(p),
      (p) => rewrites.get(p)?.length,
    ),
  );
  return { keep, rewrites, added: records.files, tmp: 'tmp', report };
}

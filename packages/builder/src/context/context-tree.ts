import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { ContextError } from './context-errors.js';
import { createDockerignoreMatcher, type DockerignoreMatcher } from './dockerignore.js';

/**
 * A build context as BuildKit receives it: a directory on disk with generated files and directories laid over it,
 * walked the way fsutil walks (tonistiigi/fsutil `Walk` + `FilterFS`): depth first, names in byte order, include and
 * exclude patterns with .dockerignore semantics, a directory listed only when something below it is (or it matches
 * itself). The same walk feeds the session's FileSync (the engine names the patterns) and the tar body (we apply our
 * own .dockerignore).
 */

/** A generated file added to the context without touching the source tree. */
export interface ExtraFileEntry {
  /** Path inside the context, `/`-separated, e.g. `app/.build-info.json`. */
  path: string;
  content: string | Buffer;
  /** Permission bits, default `0o644`. */
  mode?: number;
}

/** A whole directory (e.g. an optimized venv) added under `path`; `.dockerignore` does not apply to it. */
export interface ExtraDirEntry {
  path: string;
  sourceDir: string;
}

export type ExtraEntry = ExtraFileEntry | ExtraDirEntry;

/** A directory and what is laid over it. */
export interface ContextRoot {
  dir: string;
  extraEntries?: readonly ExtraEntry[];
}

/** Which paths a walk keeps (.dockerignore syntax; both empty: everything). */
export interface ContextFilter {
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
}

/** One entry of the walk. Files name where their bytes come from. */
export interface ContextEntry {
  /** Relative, `/`-separated, clean. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits with setuid/setgid/sticky (unix `st_mode & 0o7777`). */
  mode: number;
  size: number;
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint;
  linkname?: string;
  /** A file on disk (files only). */
  source?: string;
  /** A generated file's bytes. */
  content?: Buffer;
  /** Laid over the directory (`extraEntries`): never excluded by patterns. */
  extra?: boolean;
}

type Overlay = { path: string; sourceDir: string } | { path: string; content: Buffer; mode: number };

/** Where a directory of the walk lives: on disk, or only as the parent of an overlay. */
interface DirNode {
  path: string;
  abs: string | undefined;
  extra: boolean;
}

/**
 * Walks `root` in fsutil's order, yielding what `filter` keeps (and the parent directories of what it keeps, before
 * them). Sockets, fifos and devices are left out.
 * @throws {ContextError} when the directory does not exist, an extra entry's path leaves the context, or a file cannot
 *   be read (naming it).
 */
export async function* walkContext(root: ContextRoot, filter: ContextFilter = {}): AsyncGenerator<ContextEntry> {
  const dir = resolve(root.dir);
  const overlays = (root.extraEntries ?? []).map(toOverlay);
  const matchers = compileFilter(filter);
  const pending: ContextEntry[] = []; // directories not yet listed, waiting for something below them
  yield* walkDir({ path: '', abs: dir, extra: false }, { overlays, matchers, pending });
}

interface WalkState {
  overlays: readonly Overlay[];
  matchers: Matchers;
  pending: ContextEntry[];
}

async function* walkDir(node: DirNode, state: WalkState): AsyncGenerator<ContextEntry> {
  for (const child of await childrenOf(node, state.overlays)) {
    const entry = await entryOf(child);
    if (!entry) continue;
    const verdict = state.matchers.judge(entry.path, entry.type === 'directory', child.extra);
    if (verdict === 'prune') continue;
    if (verdict === 'keep') {
      yield* state.pending.splice(0);
      yield entry;
    }
    if (entry.type !== 'directory') continue;
    if (verdict !== 'keep') state.pending.push(entry);
    yield* walkDir({ path: entry.path, abs: child.abs, extra: child.extra }, state);
    if (state.pending.at(-1) === entry) state.pending.pop();
  }
}

interface Child {
  path: string;
  abs: string | undefined;
  overlay?: Overlay;
  extra: boolean;
}

/** A directory's children in byte order: what is on disk, with overlays replacing or adding names. */
async function childrenOf(node: DirNode, overlays: readonly Overlay[]): Promise<Child[]> {
  const byName = new Map<string, Child>();
  for (const name of node.abs ? await listDir(node.abs, node.path) : []) {
    byName.set(name, { path: joinPath(node.path, name), abs: join(node.abs as string, name), extra: node.extra });
  }
  for (const overlay of overlays) {
    const name = childName(node.path, overlay.path);
    if (name === undefined) continue;
    const path = joinPath(node.path, name);
    if (path === overlay.path) {
      const abs = 'sourceDir' in overlay ? overlay.sourceDir : undefined;
      byName.set(name, { path, abs, overlay, extra: true });
    } else if (!byName.has(name)) {
      byName.set(name, { path, abs: undefined, extra: true });
    }
  }
  return [...byName.entries()]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([, child]) => child);
}

/** The name under `dir` on the way to `path`, or undefined when `path` is not below `dir`. */
function childName(dir: string, path: string): string | undefined {
  if (dir !== '' && !path.startsWith(`${dir}/`)) return undefined;
  const rest = dir === '' ? path : path.slice(dir.length + 1);
  return rest.split('/')[0];
}

async function listDir(abs: string, path: string): Promise<string[]> {
  try {
    return await readdir(abs);
  } catch (error) {
    throw unreadable(path || '.', abs, error);
  }
}

async function entryOf(child: Child): Promise<ContextEntry | undefined> {
  const base = { path: child.path, ...(child.extra && { extra: true }) };
  if (child.overlay && 'content' in child.overlay) {
    const { content, mode } = child.overlay;
    return { ...base, type: 'file', mode, size: content.length, mtimeNs: contentTime(content), content };
  }
  if (!child.abs) return { ...base, type: 'directory', mode: 0o755, size: 0, mtimeNs: 0n };
  const st = await lstat(child.abs, { bigint: true }).catch((error: unknown) => {
    throw unreadable(child.path, child.abs as string, error);
  });
  const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : undefined;
  if (!type) return undefined;
  const entry: ContextEntry = { ...base, type, ...statFields(st), size: type === 'directory' ? 0 : Number(st.size) };
  if (type === 'symlink') entry.linkname = await readlink(child.abs);
  if (type === 'file') entry.source = child.abs;
  return entry;
}

function statFields(st: BigIntStats): { mode: number; mtimeNs: bigint } {
  return { mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs };
}

/**
 * A generated file's "modification time" is derived from its bytes: BuildKit asks again only for files whose
 * metadata changed, so equal bytes must give an equal time and different bytes (of the same size) a different one.
 */
function contentTime(content: Buffer): bigint {
  let hash = 0xcbf29ce484222325n; // FNV-1a, 64-bit
  for (const byte of content) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash >> 1n; // a positive int64
}

function toOverlay(extra: ExtraEntry): Overlay {
  const path = normaliseEntryPath(extra.path);
  if ('sourceDir' in extra) return { path, sourceDir: resolve(extra.sourceDir) };
  const content = typeof extra.content === 'string' ? Buffer.from(extra.content) : extra.content;
  return { path, content, mode: extra.mode ?? 0o644 };
}

/** `a/./b/` → `a/b`; a path that is empty or leaves the context is refused. */
export function normaliseEntryPath(path: string): string {
  const normalised = posix
    .normalize(path.replaceAll('\\', '/'))
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '');
  if (normalised === '' || normalised === '.' || normalised === '..' || normalised.startsWith('../')) {
    throw new ContextError(`invalid extra context entry path: ${path}`, path);
  }
  return normalised;
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function unreadable(path: string, abs: string, error: unknown): ContextError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' ? ': permission denied (add it to .dockerignore, or make it readable)' : '';
  return new ContextError(`cannot read build context ${path}${hint || `: ${(error as Error).message}`}`, abs, {
    cause: error,
  });
}

// --- filtering --------------------------------------------------------------------------------------------------

type Verdict = 'keep' | 'walk' | 'prune';

interface Matchers {
  /** keep: list it; walk: not listed, but something below may be; prune: skip it and everything below. */
  judge(path: string, isDir: boolean, extra: boolean): Verdict;
}

function compileFilter(filter: ContextFilter): Matchers {
  const include = patternSet(filter.includePatterns);
  const exclude = patternSet(filter.excludePatterns);
  return {
    judge(path, isDir, extra) {
      let verdict: Verdict = 'keep';
      if (include && !include.matcher.excludes(path)) {
        if (isDir && include.prefixOnly && !include.mayMatchBelow(path)) return 'prune';
        verdict = 'walk';
      }
      if (exclude && !extra && exclude.matcher.excludes(path)) {
        if (isDir && exclude.exceptionsPrefixOnly && !exclude.exceptionBelow(path)) return 'prune';
        verdict = 'walk';
      }
      return verdict;
    },
  };
}

interface PatternSet {
  matcher: DockerignoreMatcher;
  /** Every (non-`!`) pattern is a plain path: a directory no pattern lies under holds no match. */
  prefixOnly: boolean;
  mayMatchBelow(dir: string): boolean;
  /** Every `!` pattern is a plain path. */
  exceptionsPrefixOnly: boolean;
  exceptionBelow(dir: string): boolean;
}

const WILDCARD = /[*?[\]\\^]/;

function patternSet(patterns: readonly string[] | undefined): PatternSet | undefined {
  if (!patterns?.length) return undefined;
  const clean = (p: string): string =>
    posix
      .normalize(p.replace(/^!/, ''))
      .replace(/^\/+/, '')
      .replace(/(\/\*\*?)+$/, '');
  const plain = patterns.filter((p) => !p.startsWith('!')).map(clean);
  const exceptions = patterns.filter((p) => p.startsWith('!')).map(clean);
  const below = (list: readonly string[]) => (dir: string) => list.some((p) => p.startsWith(`${dir}/`));
  return {
    matcher: createDockerignoreMatcher(patterns),
    prefixOnly: !plain.some((p) => WILDCARD.test(p)),
    mayMatchBelow: below(plain),
    exceptionsPrefixOnly: !exceptions.some((p) => WILDCARD.test(p)),
    exceptionBelow: below(exceptions),
  };
}

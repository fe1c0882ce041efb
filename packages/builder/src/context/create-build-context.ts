import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fg from 'fast-glob';
import { pack as createPack } from 'tar-stream';
import type { Header } from 'tar-stream';

type TarHeader = Partial<Header> & Pick<Header, 'name'>;
import { ContextError } from '../errors.js';
import { createDockerignoreMatcher, parseDockerignore } from './dockerignore.js';
import type { DockerignoreMatcher } from './dockerignore.js';

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

export interface BuildContextOptions {
  /** The context directory. */
  contextDir: string;
  /** Dockerfile path (absolute, or relative to the working directory like `docker build -f`); default `<contextDir>/Dockerfile`. It may sit outside the context. */
  dockerfile?: string;
  extraEntries?: readonly ExtraEntry[];
  /** Use this mtime for every entry instead of the files' own (the Docker CLI keeps them; BuildKit's cache keys ignore them). */
  mtime?: Date;
}

/** One entry of the context tar, in the order it is streamed. */
export interface BuildContextEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
}

export interface BuildContext {
  /** The tar stream; produced lazily while the engine reads it (nothing is buffered whole). */
  stream: Readable;
  /** Path of the Dockerfile inside the tar (pass it as `dockerfile=` to `/build`). */
  dockerfileInContext: string;
  /** Paths of the non-directory entries, sorted. */
  files: string[];
  entries: BuildContextEntry[];
  /** The ignore file that was applied, if any (`<dockerfile>.dockerignore` wins over `<context>/.dockerignore`). */
  dockerignorePath: string | undefined;
}

type Source =
  | { kind: 'fs'; path: string; abs: string }
  | { kind: 'buffer'; path: string; content: Buffer; mode: number }
  | { kind: 'dir'; path: string; mode: number };

/**
 * Builds the context tar for `POST /build`: walks `contextDir` with fast-glob (dot files included, symlinks kept as
 * symlinks and never followed), applies `.dockerignore` as the Docker CLI does, adds the Dockerfile when it lies
 * outside the context (as `.dockerfile.<hash>`) and any `extraEntries`, and streams sorted entries with normalised
 * owners (uid/gid 0, no names), so the same tree always gives the same bytes.
 * @throws ContextError when the context directory or the Dockerfile does not exist.
 */
export async function createBuildContext(options: BuildContextOptions): Promise<BuildContext> {
  const { contextDir, dockerfilePath } = await checkPaths(options);
  const { matcher, path: dockerignorePath } = await loadDockerignore(dockerfilePath, contextDir);
  const relDockerfile = relative(contextDir, dockerfilePath);
  const dockerfileInside = relDockerfile !== '' && !relDockerfile.startsWith(`..${sep}`) && !isAbsolute(relDockerfile);

  const sources = new Map<string, Source>();
  for (const source of await walkContext(contextDir, matcher, dockerfileInside ? toPosix(relDockerfile) : undefined)) {
    sources.set(source.path, source);
  }
  let dockerfileInContext: string;
  if (dockerfileInside) {
    dockerfileInContext = toPosix(relDockerfile);
  } else {
    // Like the Docker CLI: a Dockerfile from outside travels under a unique name at the context root.
    const content = await readFile(dockerfilePath);
    dockerfileInContext = `.dockerfile.${createHash('sha256').update(content).digest('hex').slice(0, 20)}`;
    sources.set(dockerfileInContext, { kind: 'buffer', path: dockerfileInContext, content, mode: 0o644 });
  }
  for (const extra of options.extraEntries ?? []) await addExtraEntry(sources, extra);
  addParentDirectories(sources);

  const ordered = [...sources.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const { stats, entries } = await statEntries(ordered);
  const included = ordered.filter((s) => s.kind !== 'fs' || stats.has(s.path));
  const files = entries.filter((e) => e.type !== 'directory').map((e) => e.path);
  return {
    stream: streamTar(included, stats, options.mtime),
    dockerfileInContext,
    files,
    entries,
    dockerignorePath,
  };
}

/** The context directory and the Dockerfile, absolute, both checked to exist. */
async function checkPaths(options: BuildContextOptions): Promise<{ contextDir: string; dockerfilePath: string }> {
  const contextDir = resolve(options.contextDir);
  const contextStat = await stat(contextDir).catch(() => undefined);
  if (!contextStat?.isDirectory()) {
    throw new ContextError(`build context directory not found: ${contextDir}`, contextDir);
  }
  const dockerfilePath = resolve(options.dockerfile ?? join(contextDir, 'Dockerfile'));
  const dockerfileStat = await stat(dockerfilePath).catch(() => undefined);
  if (!dockerfileStat?.isFile()) {
    throw new ContextError(`Dockerfile not found: ${dockerfilePath}`, dockerfilePath);
  }
  return { contextDir, dockerfilePath };
}

/** Adds a generated file or a whole directory, replacing whatever the context had at that path. */
async function addExtraEntry(sources: Map<string, Source>, extra: ExtraEntry): Promise<void> {
  const path = normaliseEntryPath(extra.path);
  for (const key of [...sources.keys()]) {
    if (key === path || key.startsWith(`${path}/`)) sources.delete(key);
  }
  if (!('sourceDir' in extra)) {
    const content = typeof extra.content === 'string' ? Buffer.from(extra.content) : extra.content;
    sources.set(path, { kind: 'buffer', path, content, mode: extra.mode ?? 0o644 });
    return;
  }
  const sourceDir = resolve(extra.sourceDir);
  const dirStat = await stat(sourceDir).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new ContextError(`extra context directory not found: ${sourceDir}`, sourceDir);
  sources.set(path, { kind: 'fs', path, abs: sourceDir });
  const found = await fg('**', { cwd: sourceDir, dot: true, onlyFiles: false, followSymbolicLinks: false });
  for (const rel of found)
    sources.set(`${path}/${rel}`, { kind: 'fs', path: `${path}/${rel}`, abs: join(sourceDir, rel) });
}

/** Every entry needs its parent directories in the tar. */
function addParentDirectories(sources: Map<string, Source>): void {
  for (const path of [...sources.keys()]) {
    let parent = posix.dirname(path);
    while (parent !== '.' && !sources.has(parent)) {
      sources.set(parent, { kind: 'dir', path: parent, mode: 0o755 });
      parent = posix.dirname(parent);
    }
  }
}

/** `lstat`s the files from disk (sockets, fifos and devices are left out) and lists every entry's type. */
async function statEntries(
  ordered: readonly Source[],
): Promise<{ stats: Map<string, Stats>; entries: BuildContextEntry[] }> {
  const stats = new Map<string, Stats>();
  const entries: BuildContextEntry[] = [];
  for (const source of ordered) {
    if (source.kind === 'fs') {
      const st = await lstat(source.abs);
      if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) continue; // sockets, fifos, devices
      stats.set(source.path, st);
      entries.push({
        path: source.path,
        type: st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file',
      });
    } else {
      entries.push({ path: source.path, type: source.kind === 'dir' ? 'directory' : 'file' });
    }
  }
  return { stats, entries };
}

async function loadDockerignore(
  dockerfilePath: string,
  contextDir: string,
): Promise<{ matcher: DockerignoreMatcher | undefined; path: string | undefined }> {
  // BuildKit's rule: `<Dockerfile>.dockerignore` next to the Dockerfile takes precedence over `<context>/.dockerignore`.
  for (const candidate of [`${dockerfilePath}.dockerignore`, join(contextDir, '.dockerignore')]) {
    const text = await readFile(candidate, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw new ContextError(`cannot read ${candidate}: ${error.message}`, candidate, { cause: error });
    });
    if (text !== undefined) return { matcher: createDockerignoreMatcher(parseDockerignore(text)), path: candidate };
  }
  return { matcher: undefined, path: undefined };
}

async function walkContext(
  contextDir: string,
  matcher: DockerignoreMatcher | undefined,
  dockerfile: string | undefined,
): Promise<Source[]> {
  const found = await fg('**', {
    cwd: contextDir,
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
    ignore: matcher ? prunablePaths(matcher.patterns, dockerfile) : [],
  });
  const kept = matcher ? found.filter((path) => path === dockerfile || !matcher.excludes(path)) : found;
  return kept.map((path) => ({ kind: 'fs', path, abs: join(contextDir, path) }));
}

/**
 * Directories the walk may skip entirely (e.g. `node_modules`, `.git`): literal patterns, only when the file has no
 * `!` exception that could re-include something below them. The matcher still decides every path that is walked.
 */
function prunablePaths(patterns: readonly string[], dockerfile: string | undefined): string[] {
  if (patterns.some((p) => p.startsWith('!'))) return [];
  const literal = patterns
    .map((p) => posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, ''))
    .filter((p) => p !== '' && p !== '.' && !p.startsWith('..') && !/[*?[\]\\]/.test(p))
    .filter((p) => dockerfile === undefined || !(dockerfile === p || dockerfile.startsWith(`${p}/`)));
  return literal.flatMap((p) => [fg.escapePath(p), `${fg.escapePath(p)}/**`]);
}

function streamTar(sources: readonly Source[], stats: ReadonlyMap<string, Stats>, mtime: Date | undefined): Readable {
  const tar = createPack();
  const fixed = mtime ?? new Date(0);
  const write = async (): Promise<void> => {
    for (const source of sources) {
      const base = { name: source.path, uid: 0, gid: 0, uname: '', gname: '' } satisfies TarHeader;
      if (source.kind === 'dir') {
        await addEntry(tar, { ...base, type: 'directory', mode: source.mode, mtime: fixed });
      } else if (source.kind === 'buffer') {
        await addEntry(
          tar,
          { ...base, type: 'file', mode: source.mode, mtime: fixed, size: source.content.length },
          source.content,
        );
      } else {
        const st = stats.get(source.path);
        if (!st) continue;
        const header = { ...base, mode: st.mode & 0o7777, mtime: mtime ?? st.mtime };
        if (st.isDirectory()) await addEntry(tar, { ...header, type: 'directory' });
        else if (st.isSymbolicLink())
          await addEntry(tar, { ...header, type: 'symlink', linkname: await readlink(source.abs) });
        else if (st.size === 0) await addEntry(tar, { ...header, type: 'file', size: 0 }, Buffer.alloc(0));
        else {
          const entry = tar.entry({ ...header, type: 'file', size: st.size });
          await pipeline(createReadStream(source.abs), entry).catch((error: unknown) => {
            // The tree was scanned before streaming: a file that grew or shrank since is named, not "Size mismatch".
            throw new ContextError(
              `build context file ${source.path} changed while it was being sent (${st.size} bytes when scanned): ${(error as Error).message}`,
              source.abs,
              { cause: error },
            );
          });
        }
      }
    }
    tar.finalize();
  };
  write().catch((error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))));
  // tar-stream 3 packs with streamx; hand out a plain Node Readable.
  return Readable.from(tar as AsyncIterable<Buffer>, { objectMode: false });
}

function addEntry(tar: ReturnType<typeof createPack>, header: TarHeader, content?: Buffer): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const callback = (error?: Error | null): void => (error ? reject(error) : resolvePromise());
    if (content) tar.entry(header, content, callback);
    else tar.entry(header, callback);
  });
}

function normaliseEntryPath(path: string): string {
  const normalised = posix
    .normalize(toPosix(path))
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '');
  if (normalised === '' || normalised === '.' || normalised.startsWith('../')) {
    throw new ContextError(`invalid extra context entry path: ${path}`, path);
  }
  return normalised;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

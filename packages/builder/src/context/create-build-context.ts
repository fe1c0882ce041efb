import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as createPack } from 'tar-stream';
import type { Header } from 'tar-stream';
import { ContextError } from './context-errors.js';
import { walkContext, type ContextEntry, type ExtraEntry } from './context-tree.js';
import { parseDockerignore } from './dockerignore.js';

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

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

/** The context directory and the Dockerfile, absolute, both checked to exist. */
export interface ContextPaths {
  contextDir: string;
  dockerfilePath: string;
}

/**
 * Builds the context tar for `POST /build` on an engine that cannot take the context through a session: the walk of
 * `walkContext` with `.dockerignore` applied as the Docker CLI does, the Dockerfile added when it lies outside the
 * context (as `.dockerfile.<hash>`), any `extraEntries`, owners normalised (uid/gid 0, no names), so the same tree
 * always gives the same bytes.
 * @throws ContextError when the context directory or the Dockerfile does not exist, or a file cannot be read.
 */
export async function createBuildContext(options: BuildContextOptions): Promise<BuildContext> {
  const { contextDir, dockerfilePath } = await checkContextPaths(options);
  const ignore = await loadDockerignore(dockerfilePath, contextDir);
  const relDockerfile = relative(contextDir, dockerfilePath);
  const inside = relDockerfile !== '' && !relDockerfile.startsWith(`..${sep}`) && !isAbsolute(relDockerfile);
  const extraEntries = [...(options.extraEntries ?? [])];
  let dockerfileInContext = toPosix(relDockerfile);
  if (!inside) {
    // Like the Docker CLI: a Dockerfile from outside travels under a unique name at the context root.
    const content = await readFile(dockerfilePath);
    dockerfileInContext = `.dockerfile.${createHash('sha256').update(content).digest('hex').slice(0, 20)}`;
    extraEntries.unshift({ path: dockerfileInContext, content });
  }
  // The Dockerfile is always sent, even when .dockerignore excludes it (as the Docker CLI re-includes it).
  const excludePatterns = ignore.patterns.length ? [...ignore.patterns, `!${dockerfileInContext}`] : [];
  const entries: ContextEntry[] = [];
  for await (const entry of walkContext({ dir: contextDir, extraEntries }, { excludePatterns })) entries.push(entry);
  return {
    stream: streamTar(entries, options.mtime),
    dockerfileInContext,
    files: entries
      .filter((e) => e.type !== 'directory')
      .map((e) => e.path)
      .sort(),
    entries: entries.map(({ path, type }) => ({ path, type })),
    dockerignorePath: ignore.path,
  };
}

/** @throws ContextError when the context directory or the Dockerfile does not exist. */
export async function checkContextPaths(options: { contextDir: string; dockerfile?: string }): Promise<ContextPaths> {
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

async function loadDockerignore(
  dockerfilePath: string,
  contextDir: string,
): Promise<{ patterns: string[]; path: string | undefined }> {
  // BuildKit's rule: `<Dockerfile>.dockerignore` next to the Dockerfile takes precedence over `<context>/.dockerignore`.
  for (const candidate of [`${dockerfilePath}.dockerignore`, join(contextDir, '.dockerignore')]) {
    const text = await readFile(candidate, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw new ContextError(`cannot read ${candidate}: ${error.message}`, candidate, { cause: error });
    });
    if (text !== undefined) return { patterns: parseDockerignore(text), path: candidate };
  }
  return { patterns: [], path: undefined };
}

function streamTar(entries: readonly ContextEntry[], mtime: Date | undefined): Readable {
  const tar = createPack();
  const write = async (): Promise<void> => {
    for (const entry of entries) await addEntry(tar, entry, mtime);
    tar.finalize();
  };
  write().catch((error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))));
  // tar-stream 3 packs with streamx; hand out a plain Node Readable.
  return Readable.from(tar as AsyncIterable<Buffer>, { objectMode: false });
}

async function addEntry(tar: ReturnType<typeof createPack>, entry: ContextEntry, mtime: Date | undefined) {
  const onDisk = entry.source !== undefined || entry.type === 'symlink' || (entry.type === 'directory' && !entry.extra);
  const header: TarHeader = {
    name: entry.path,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mode: entry.mode,
    mtime: mtime ?? new Date(onDisk ? Number(entry.mtimeNs / 1_000_000n) : 0),
    type: entry.type,
    ...(entry.linkname !== undefined && { linkname: entry.linkname }),
  };
  if (entry.type !== 'file') return writeEntry(tar, header);
  if (entry.content) return writeEntry(tar, { ...header, size: entry.content.length }, entry.content);
  if (entry.size === 0) return writeEntry(tar, { ...header, size: 0 }, Buffer.alloc(0));
  const stream = tar.entry({ ...header, size: entry.size });
  await pipeline(createReadStream(entry.source as string), stream).catch((error: unknown) => {
    // The tree was scanned before streaming: a file that grew or shrank since is named, not "Size mismatch".
    throw new ContextError(
      `build context file ${entry.path} changed while it was being sent (${entry.size} bytes when scanned): ${(error as Error).message}`,
      entry.source as string,
      { cause: error },
    );
  });
}

function writeEntry(tar: ReturnType<typeof createPack>, header: TarHeader, content?: Buffer): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const callback = (error?: Error | null): void => (error ? reject(error) : resolvePromise());
    if (content) tar.entry(header, content, callback);
    else tar.entry(header, callback);
  });
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

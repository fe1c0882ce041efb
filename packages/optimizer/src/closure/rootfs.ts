import { readFileSync, readlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { walkDirectory } from '../optimize-directory.js';
import type { TarHeader } from '../tar-header.js';
import { readAt, spoolTar } from '../tar-spool.js';
import { indexTree, type TreeIndex } from '../tree-index.js';
import { normalizeMemberName, type TreeEntry } from '../tree.js';
import { ClosureError } from './closure-error.js';
import { walkPath, type PathNode } from './walk-path.js';

/** An entry of a root filesystem. Hard links are `other` with `hardlinkTo`. */
export interface RootfsEntry extends TreeEntry {
  /** A symlink's target, as written. */
  linkname?: string;
  /** A hard link's target (a path of the same tree). */
  hardlinkTo?: string;
}

/** A root filesystem (an exported container, or a directory) indexed by path, with its file contents on demand. */
export interface Rootfs {
  /** Names the input in messages. */
  readonly name: string;
  readonly index: TreeIndex<RootfsEntry>;
  /** The bytes of a regular file (or of a hard link's target). */
  read(path: string): Promise<Buffer>;
}

/** A member of a spooled tar: its header and byte ranges. */
export interface RootfsMember {
  header: TarHeader;
  entry: RootfsEntry;
  start: number;
  dataStart: number;
  end: number;
}

function tarEntry(header: TarHeader): RootfsEntry {
  const p = normalizeMemberName(header.name);
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { path: p, type: 'file', size: header.size };
    case 'directory':
      return { path: p, type: 'directory', size: 0 };
    case 'symlink':
      return { path: p, type: 'symlink', size: 0, linkname: header.linkname };
    case 'link':
      return { path: p, type: 'other', size: 0, hardlinkTo: normalizeMemberName(header.linkname) };
    default:
      return { path: p, type: 'other', size: 0 };
  }
}

/**
 * Spool a tar stream of a root filesystem (`GET /containers/{id}/export`, `docker export`) to `fh` and index it.
 * @throws {InvalidTarError} when it is not a tar; {EmptyTarError} when it has no members
 */
export async function rootfsFromTar(
  input: Readable,
  fh: FileHandle,
): Promise<{ rootfs: Rootfs; members: RootfsMember[] }> {
  const members = (await spoolTar(input, fh)).map((m) => ({ ...m, entry: tarEntry(m.header) }));
  const byPath = new Map(members.map((m) => [m.entry.path, m]));
  const index = indexTree(members.map((m) => m.entry));
  const read = async (p: string): Promise<Buffer> => {
    let m = byPath.get(p);
    if (m?.entry.hardlinkTo !== undefined) m = byPath.get(m.entry.hardlinkTo);
    if (!m || m.entry.type !== 'file') throw new ClosureError(`${p} is not a regular file of the input tar stream`);
    return readAt(fh, m.dataStart, m.entry.size);
  };
  return { rootfs: { name: 'the input tar stream', index, read }, members };
}

/**
 * Index a root filesystem extracted into a directory (symlinks are read, never followed).
 * @throws {ClosureError} when `dir` cannot be read
 */
export async function rootfsFromDirectory(dir: string): Promise<Rootfs> {
  const list: RootfsEntry[] = await walkDirectory(dir).catch((err: unknown) => {
    throw new ClosureError(`cannot read the root filesystem ${dir}: ${(err as Error).message}`, { cause: err });
  });
  for (const e of list) if (e.type === 'symlink') e.linkname = readlinkSync(path.join(dir, e.path));
  const index = indexTree(list);
  const read = (p: string): Promise<Buffer> => {
    if (index.entries.get(p)?.type !== 'file') throw new ClosureError(`${p} is not a regular file of ${dir}`);
    return Promise.resolve(readFileSync(path.join(dir, p)));
  };
  return { name: dir, index, read };
}

export interface Resolved {
  /** The path with every symlink resolved (relative to the root, '' for the root). */
  path: string;
  /** The symlinks passed on the way, in order: they must stay for the path to keep working. */
  links: string[];
  entry?: RootfsEntry;
}

/**
 * Resolve a path the way the kernel does, inside the root filesystem: every component may be a symlink (absolute
 * targets start again at the root), `..` goes to the parent of what was reached. Undefined when a component is
 * missing.
 * @throws {ClosureError} on a symlink loop
 */
export function resolvePath(rootfs: Rootfs, p: string): Resolved | undefined {
  const { entries, dirs } = rootfs.index;
  const walked = walkPath(p, (candidate): PathNode => {
    const entry = entries.get(candidate);
    if (entry?.type === 'symlink' && entry.linkname !== undefined) return { kind: 'link', target: entry.linkname };
    return entry || dirs.has(candidate) ? { kind: 'present' } : { kind: 'missing' };
  });
  if (walked === 'loop') throw new ClosureError(`too many levels of symbolic links resolving /${p}`);
  if (walked === 'missing') return undefined;
  const entry = entries.get(walked.path);
  return { ...walked, ...(entry ? { entry } : {}) };
}

import { closeSync, constants, openSync, readSync, readlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { OptimizerError, SizeLimitError } from '../shared/errors.js';
import { readBounded } from '../shared/limits.js';
import { memberPath, safeMembers } from '../archive/member-names.js';
import type { DroppedMember } from '../archive/member-names.js';
import type { TarHeader } from '../archive/tar-header.js';
import { readAt, spoolTar } from '../archive/tar-spool.js';
import { indexTree, type TreeIndex } from '../tree/tree-index.js';
import type { TreeEntry } from '../tree/tree.js';
import { walkDirectory } from '../tree/walk-directory.js';
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
  /**
   * The bytes of a regular file (or of a hard link's target).
   * @throws {SizeLimitError} when it is larger than `limit`
   */
  read(path: string, limit: number): Promise<Buffer>;
  /** `length` bytes of it from `at` (fewer at its end): a part of a file of any size. */
  readRange(path: string, at: number, length: number): Promise<Buffer>;
  /** The size of a regular file (or of a hard link's target). */
  fileSize(path: string): number;
  /** Members of the input tar left out because they would land outside the root (`dropUnsafeMembers`). */
  readonly dropped: readonly DroppedMember[];
}

/** A member of a spooled tar: its header and byte ranges. */
export interface RootfsMember {
  header: TarHeader;
  entry: RootfsEntry;
  start: number;
  dataStart: number;
  end: number;
}

function tarEntry(header: TarHeader, p: string): RootfsEntry {
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { path: p, type: 'file', size: header.size };
    case 'directory':
      return { path: p, type: 'directory', size: 0 };
    case 'symlink':
      return { path: p, type: 'symlink', size: 0, linkname: header.linkname };
    case 'link': {
      const target = memberPath(header.linkname);
      return { path: p, type: 'other', size: 0, ...(typeof target === 'string' ? { hardlinkTo: target } : {}) };
    }
    default:
      return { path: p, type: 'other', size: 0 };
  }
}

/**
 * Spool a tar stream of a root filesystem (`GET /containers/{id}/export`, `docker export`) to `fh` and index it. Member
 * names are made safe first (see `safeMembers`).
 * @throws {InvalidTarError} when it is not a tar; {EmptyTarError} when it has no members
 * @throws {UnsafeMemberError} when a member would land outside the root, unless `dropUnsafe`
 */
export async function rootfsFromTar(
  input: Readable,
  fh: FileHandle,
  dropUnsafe = false,
): Promise<{ rootfs: Rootfs; members: RootfsMember[] }> {
  const safe = safeMembers(await spoolTar(input, fh), dropUnsafe);
  const members = safe.members.map((m, i) => ({ ...m, entry: tarEntry(m.header, safe.paths[i] as string) }));
  const byPath = new Map(members.map((m) => [m.entry.path, m]));
  const index = indexTree(members.map((m) => m.entry));
  const member = (p: string): RootfsMember => {
    let m = byPath.get(p);
    if (m?.entry.hardlinkTo !== undefined) m = byPath.get(m.entry.hardlinkTo);
    if (!m || m.entry.type !== 'file') throw new ClosureError(`${p} is not a regular file of the input tar stream`);
    return m;
  };
  const read = async (p: string, limit: number): Promise<Buffer> => {
    const m = member(p);
    if (m.entry.size > limit) throw new SizeLimitError(`/${p}`, limit, 'read');
    return readAt(fh, m.dataStart, m.entry.size);
  };
  const readRange = async (p: string, at: number, length: number): Promise<Buffer> => {
    const m = member(p);
    return readAt(fh, m.dataStart + at, Math.max(0, Math.min(length, m.entry.size - at)));
  };
  const fileSize = (p: string): number => member(p).entry.size;
  const rootfs = { name: 'the input tar stream', index, read, readRange, fileSize, dropped: safe.dropped };
  return { rootfs, members };
}

/** `length` bytes of a file from `at` (fewer at its end), never through a symlink at its last component. */
function rangeOf(abs: string, at: number, length: number): Buffer {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(length);
    let n = 0;
    for (let got = -1; got !== 0 && n < length; n += got) got = readSync(fd, buf, n, length - n, at + n);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Index a root filesystem extracted into a directory (symlinks are read, never followed).
 * @throws {ClosureError} when `dir` cannot be read; the optimizer's typed errors for a directory below it that
 *   cannot be read ({@link TreeAccessError}) or a name that is not UTF-8 ({@link UnsupportedNameError})
 */
export async function rootfsFromDirectory(dir: string): Promise<Rootfs> {
  let list: RootfsEntry[];
  try {
    list = walkDirectory(dir);
  } catch (err) {
    if (err instanceof OptimizerError && err.name !== 'NotSitePackagesError') throw err;
    throw new ClosureError(`cannot read the root filesystem ${dir}: ${(err as Error).message}`, { cause: err });
  }
  for (const e of list) if (e.type === 'symlink') e.linkname = readlinkSync(path.join(dir, e.path));
  const index = indexTree(list);
  const file = (p: string): string => {
    if (index.entries.get(p)?.type !== 'file') throw new ClosureError(`${p} is not a regular file of ${dir}`);
    return path.join(dir, p);
  };
  const read = (p: string, limit: number): Promise<Buffer> =>
    Promise.resolve(readBounded(file(p), `/${p}`, limit).content);
  const readRange = (p: string, at: number, length: number): Promise<Buffer> =>
    Promise.resolve(rangeOf(file(p), at, length));
  const fileSize = (p: string): number => index.entries.get(p)?.size ?? 0;
  return { name: dir, index, read, readRange, fileSize, dropped: [] };
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

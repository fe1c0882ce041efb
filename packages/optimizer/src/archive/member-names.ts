import { UnsafeMemberError } from '../shared/errors.js';
import type { TarHeader } from './tar-header.js';
import { parentOf } from '../tree/tree.js';

// Archive member names, made safe: a name is a path of the tree only when it stays below the archive's root as
// written. Tools that unpack the output (tar, BuildKit's COPY of a context) would otherwise write through `..`, an
// absolute name, or a symlink member that an earlier member planted.

/** An archive member left out of the output because it would land outside the root (`dropUnsafeMembers`). */
export interface DroppedMember {
  /** The member's name as the archive has it. */
  name: string;
  /** Why it would land outside the root. */
  reason: string;
}

/** Why a member name is unsafe. */
export interface Unsafe {
  unsafe: string;
}

/** The tree path of a member name (`./a//b/` → `a/b`, the root → ''), or why it would land outside the root. */
export function memberPath(name: string): string | Unsafe {
  let p = name;
  while (p.startsWith('./')) p = p.slice(2);
  while (p.endsWith('/')) p = p.slice(0, -1);
  // Almost every name is plain already: no parsing for those.
  if (!p.startsWith('/') && !p.includes('..') && !p.includes('//') && !p.includes('/./') && !p.endsWith('/.')) {
    return p === '.' ? '' : p;
  }
  if (name.startsWith('/')) return { unsafe: 'an absolute name' };
  const parts = name.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) return { unsafe: "a '..' in its name" };
  return parts.join('/');
}

/** Why a link member points outside the archive: a hard link to a name that is not safe, a symlink climbing out. */
function linkProblem(path: string, header: TarHeader): string | undefined {
  if (header.type === 'link') {
    const target = memberPath(header.linkname);
    return typeof target === 'string' ? undefined : `a hard link to ${target.unsafe}`;
  }
  // An absolute symlink target resolves against the image's root when it runs: inside by definition.
  if (header.type !== 'symlink' || header.linkname.startsWith('/')) return undefined;
  let depth = path.split('/').length - 1;
  for (const seg of header.linkname.split('/')) {
    if (seg === '..') depth--;
    else if (seg !== '' && seg !== '.') depth++;
    if (depth < 0) return 'a symlink pointing outside the archive';
  }
  return undefined;
}

/** The first symlink member above `path`, if any. */
function symlinkAbove(path: string, symlinks: ReadonlySet<string>): string | undefined {
  for (let d = parentOf(path); d !== ''; d = parentOf(d)) if (symlinks.has(d)) return d;
  return undefined;
}

/**
 * The members whose names are safe, with their tree paths (`paths[i]` is the path of `members[i]`): an absolute name,
 * a `..` segment, a path below a symlink member, a symlink climbing above the root and a hard link to an unsafe name
 * are refused, or dropped and reported with `drop`.
 * @throws {UnsafeMemberError} on the first unsafe member, unless `drop`
 */
export function safeMembers<M extends { header: TarHeader }>(
  all: readonly M[],
  drop: boolean,
): { members: M[]; paths: string[]; dropped: DroppedMember[] } {
  const named = all.map((m) => memberPath(m.header.name));
  const symlinks = new Set<string>();
  all.forEach((m, i) => {
    const p = named[i];
    if (m.header.type === 'symlink' && typeof p === 'string') symlinks.add(p);
  });
  const members: M[] = [];
  const paths: string[] = [];
  const dropped: DroppedMember[] = [];
  all.forEach((m, i) => {
    const p = named[i] as string | Unsafe;
    let reason = typeof p === 'string' ? linkProblem(p, m.header) : p.unsafe;
    if (reason === undefined && typeof p === 'string' && symlinks.size > 0) {
      const link = symlinkAbove(p, symlinks);
      if (link !== undefined) reason = `below the symlink member ${link}`;
    }
    if (reason === undefined && typeof p === 'string') {
      members.push(m);
      paths.push(p);
    } else if (drop) dropped.push({ name: m.header.name, reason: reason ?? '' });
    else throw new UnsafeMemberError(m.header.name, reason ?? '');
  });
  return { members, paths, dropped };
}

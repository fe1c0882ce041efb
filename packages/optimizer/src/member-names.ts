import { UnsafeMemberError } from './errors.js';
import type { DroppedMember } from './report.js';
import type { TarHeader } from './tar-header.js';
import { parentOf } from './tree.js';

// Archive member names, made safe: a name is a path of the tree only when it stays below the archive's root as
// written. Tools that unpack the output (tar, BuildKit's COPY of a context) would otherwise write through `..`, an
// absolute name, or a symlink member that an earlier member planted.

/** The tree path of a member name (`./a//b/` → `a/b`, the root → ''), or why it would land outside the root. */
export function memberPath(name: string): { path: string } | { unsafe: string } {
  if (name.startsWith('/')) return { unsafe: 'an absolute name' };
  const parts = name.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) return { unsafe: "a '..' in its name" };
  return { path: parts.join('/') };
}

/** Why a link member points outside the archive: a hard link to a name that is not safe, a symlink climbing out. */
function linkProblem(path: string, header: TarHeader): string | undefined {
  if (header.type === 'link') {
    const target = memberPath(header.linkname);
    return 'unsafe' in target ? `a hard link to ${target.unsafe}` : undefined;
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

/** A member with the tree path of its name. */
export interface NamedMember {
  header: TarHeader;
  path: string;
}

/** The first symlink member above `path`, if any. */
function symlinkAbove(path: string, symlinks: ReadonlySet<string>): string | undefined {
  for (let d = parentOf(path); d !== ''; d = parentOf(d)) if (symlinks.has(d)) return d;
  return undefined;
}

/**
 * The members whose names are safe, each with its tree path: an absolute name, a `..` segment, a path below a symlink
 * member, a symlink climbing above the root and a hard link to an unsafe name are refused, or dropped and reported
 * with `drop`.
 * @throws {UnsafeMemberError} on the first unsafe member, unless `drop`
 */
export function safeMembers<M extends { header: TarHeader }>(
  members: readonly M[],
  drop: boolean,
): { members: (M & { path: string })[]; dropped: DroppedMember[] } {
  const named = members.map((m) => ({ m, p: memberPath(m.header.name) }));
  const symlinks = new Set<string>();
  for (const { m, p } of named) if (m.header.type === 'symlink' && 'path' in p) symlinks.add(p.path);
  const kept: (M & { path: string })[] = [];
  const dropped: DroppedMember[] = [];
  for (const { m, p } of named) {
    let reason = 'unsafe' in p ? p.unsafe : linkProblem(p.path, m.header);
    if (reason === undefined && 'path' in p && symlinks.size > 0) {
      const link = symlinkAbove(p.path, symlinks);
      if (link !== undefined) reason = `below the symlink member ${link}`;
    }
    if (reason === undefined && 'path' in p) kept.push({ ...m, path: p.path });
    else if (drop) dropped.push({ name: m.header.name, reason: reason ?? '' });
    else throw new UnsafeMemberError(m.header.name, reason ?? '');
  }
  return { members: kept, dropped };
}

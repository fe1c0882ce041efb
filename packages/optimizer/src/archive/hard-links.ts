import { memberPath } from './member-names.js';
import type { TarHeader } from './tar-header.js';
import { copyRange, encodeFileHeader, encodeMember, padding, type Piece } from './tar-spool.js';

/** What a hard-link fix needs of a spooled member. */
export interface LinkedMember {
  header: TarHeader;
  entry: { path: string; size: number };
  dataStart: number;
}

/** A kept hard link whose target goes (or is rewritten): it becomes a file with the target's data, or links to one. */
export interface LinkFix<M extends LinkedMember> {
  /** The regular file member whose data the link had. */
  target: M;
  /** Another kept link of the same target made a file first: link to it instead. */
  to?: string;
}

/**
 * The kept hard links whose target member is gone from the output (`gone`: removed, or rewritten, whose other names
 * keep the old content): the first one of each target becomes a regular file with the target's data, later ones link
 * to it. A link names an earlier member; chains of links are followed to the file.
 */
export function linkFixes<M extends LinkedMember>(
  members: readonly M[],
  kept: (p: string) => boolean,
  gone: (p: string) => boolean,
): Map<string, LinkFix<M>> {
  const fixes = new Map<string, LinkFix<M>>();
  const byPath = new Map<string, M>();
  const promoted = new Map<string, string>();
  for (const m of members) {
    let target = m.header.type === 'link' ? m : undefined;
    for (let hops = 0; target?.header.type === 'link' && hops < 64; hops++) {
      const name = memberPath(target.header.linkname);
      target = typeof name === 'string' ? byPath.get(name) : undefined;
    }
    byPath.set(m.entry.path, m);
    if (target === undefined || target === m || !kept(m.entry.path) || !gone(target.entry.path)) continue;
    const to = promoted.get(target.entry.path);
    fixes.set(m.entry.path, to === undefined ? { target } : { target, to });
    if (to === undefined) promoted.set(target.entry.path, m.entry.path);
  }
  return fixes;
}

/** The pieces of a fixed link: a file header and the target's data from the spool, or a link to the first copy. */
export async function fixedLinkPieces<M extends LinkedMember>(
  pieces: Piece[],
  m: LinkedMember,
  fix: LinkFix<M>,
): Promise<void> {
  if (fix.to !== undefined) {
    const { linkpath: _stale, ...pax } = m.header.pax ?? {};
    const header = { ...m.header, linkname: fix.to, pax: m.header.pax ? pax : null };
    pieces.push({ bytes: await encodeMember(header, Buffer.alloc(0)) });
    return;
  }
  const { size } = fix.target.entry;
  pieces.push({ bytes: await encodeFileHeader(m.header, size) });
  copyRange(pieces, fix.target.dataStart, fix.target.dataStart + size);
  pieces.push({ bytes: padding(size) });
}

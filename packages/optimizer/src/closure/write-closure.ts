import { createReadStream, lstatSync, readlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';
import { fixedLinkPieces, linkFixes } from '../archive/hard-links.js';
import type { TarHeader } from '../archive/tar-header.js';
import { END_OF_ARCHIVE, copyRange, encodeMember, writePieces, type Piece } from '../archive/tar-spool.js';
import type { ClosurePlan } from './plan-closure.js';
import type { RootfsMember } from './rootfs.js';

const STICKY_TMP = 0o1777;

/** A directory header for a path the input did not list (root-owned, 0755, mtime 0), or /tmp (1777). */
function directoryHeader(name: string, mode: number): TarHeader {
  return {
    name,
    mode,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: new Date(0),
    type: 'directory',
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    pax: null,
  };
}

/** A file the input did not have (a `status.d` record): root-owned, 0644, mtime 0. */
function addedHeader(name: string, content: Buffer): TarHeader {
  return { ...directoryHeader(name, 0o644), type: 'file', size: content.length };
}

/** The header with another mtime (and no stale pax mtime record). */
function retime(header: TarHeader, mtime: Date | undefined): TarHeader {
  if (!mtime) return header;
  const { mtime: _stale, ...pax } = header.pax ?? {};
  return { ...header, mtime, pax: header.pax ? pax : null };
}

/**
 * Write the minimal tree from a spooled tar: kept members byte for byte in their order (headers with mode, owner,
 * mtime, links), /etc/passwd and /etc/group with their new content, /tmp empty with mode 1777, a header for any kept
 * directory the input only implied, and last the files the plan adds. A kept hard link whose target is left out (an
 * `omit` tree) or rewritten becomes a file with the target's data, so the output unpacks.
 */
export async function writeClosureFromTar(
  members: readonly RootfsMember[],
  fh: FileHandle,
  plan: ClosurePlan,
  output: Writable,
  directoryMtime?: Date,
): Promise<void> {
  const listed = new Set(members.map((m) => m.entry.path));
  const fixes = members.some((m) => m.header.type === 'link')
    ? linkFixes(
        members,
        (p) => plan.keep.has(p),
        (p) => !plan.keep.has(p) || plan.rewrites.has(p),
      )
    : new Map();
  const pieces: Piece[] = [];
  for (const d of [...plan.keep].filter((p) => !listed.has(p) && !plan.added.has(p)).sort()) {
    pieces.push({
      bytes: await encodeMember(directoryHeader(d, d === plan.tmp ? STICKY_TMP : 0o755), Buffer.alloc(0)),
    });
  }
  for (const m of members) {
    const p = m.entry.path;
    if (p === '' || !plan.keep.has(p) || plan.added.has(p)) continue; // an added file replaces the input's
    const content = plan.rewrites.get(p);
    const fix = fixes.get(p);
    if (content) pieces.push({ bytes: await encodeMember(m.header, content) });
    else if (fix) await fixedLinkPieces(pieces, m, fix);
    else if (p === plan.tmp) {
      const header = { ...m.header, type: 'directory' as const, mode: (m.header.mode & ~0o7777) | STICKY_TMP };
      pieces.push({ bytes: await encodeMember(retime(header, directoryMtime), Buffer.alloc(0)) });
    } else if (m.header.type === 'directory' && directoryMtime) {
      pieces.push({ bytes: await encodeMember(retime(m.header, directoryMtime), Buffer.alloc(0)) });
    } else copyRange(pieces, m.start, m.end);
  }
  for (const [p, content] of [...plan.added].sort(([a], [b]) => (a < b ? -1 : 1)))
    pieces.push({ bytes: await encodeMember(addedHeader(p, content), content) });
  await writePieces(output, fh, [...pieces, END_OF_ARCHIVE]);
}

/** The tar header of a directory entry, from lstat. */
function headerOf(root: string, p: string, plan: ClosurePlan): Partial<Header> & { name: string } {
  const added = plan.added.get(p);
  if (added) return { name: p, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: added.length };
  const abs = path.join(root, p);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return { name: p, type: 'directory', mode: p === plan.tmp ? STICKY_TMP : 0o755, mtime: new Date(0) };
  const base = { name: p, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (p === plan.tmp) return { ...base, type: 'directory', mode: STICKY_TMP };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: readlinkSync(abs) };
  const rewrite = plan.rewrites.get(p);
  return { ...base, type: 'file', size: rewrite ? rewrite.length : st.size };
}

/** Write the minimal tree of a root filesystem directory as a tar stream (paths sorted, parents first). */
export async function writeClosureFromDirectory(root: string, plan: ClosurePlan, output: Writable): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, output);
  try {
    for (const p of [...plan.keep].sort()) {
      const header = headerOf(root, p, plan);
      const rewrite = plan.rewrites.get(p) ?? plan.added.get(p);
      if (header.type !== 'file') pack.entry(header);
      else if (rewrite) pack.entry(header, rewrite);
      else {
        const entry = pack.entry(header);
        await pipeline(createReadStream(path.join(root, p)), entry);
      }
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
  }
  await done;
}

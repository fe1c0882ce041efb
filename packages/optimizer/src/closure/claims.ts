import type { Totals } from '../report/report.js';
import { isWithin } from '../tree/tree-index.js';
import { normalizeMemberName, parentOf } from '../tree/tree.js';
import { resolvePath, type Rootfs } from './rootfs.js';

/** Where a kept entry belongs in the report. */
export type ClosurePart = 'interpreter' | 'stdlib' | 'sharedLibraries' | 'venv' | 'app' | 'system';

export const CLOSURE_PARTS: readonly ClosurePart[] = [
  'interpreter',
  'stdlib',
  'sharedLibraries',
  'venv',
  'app',
  'system',
];

/** The kept entries of a root filesystem and the part each belongs to (the first part to claim a path keeps it). */
export class Claims {
  readonly kept = new Map<string, ClosurePart>();

  constructor(private readonly rootfs: Rootfs) {}

  /** Keep one entry (and, for a hard link, the file it links to). */
  keep(path: string, part: ClosurePart): void {
    const p = normalizeMemberName(path);
    if (this.kept.has(p)) return;
    this.kept.set(p, part);
    const target = this.rootfs.index.entries.get(p)?.hardlinkTo;
    if (target !== undefined) this.keep(target, part);
  }

  /**
   * Keep what a path leads to and every symlink on the way; a directory is kept as an entry, not its content.
   * @returns the resolved path, or undefined when it leads nowhere
   */
  keepResolved(path: string, part: ClosurePart): string | undefined {
    const r = resolvePath(this.rootfs, path);
    if (!r || (!r.entry && !this.rootfs.index.dirs.has(r.path))) return undefined;
    for (const l of r.links) this.keep(l, part);
    this.keep(r.path, part);
    return r.path;
  }

  /** Keep these entries; what their symlinks lead to is kept too (e.g. Debian's stdlib `sitecustomize.py` → /etc). */
  keepAll(paths: readonly string[], part: ClosurePart): void {
    for (const p of paths) {
      this.keep(p, part);
      if (this.rootfs.index.entries.get(p)?.type === 'symlink') this.keepResolved(p, part);
    }
  }

  /** Keep a whole tree; the targets of its symlinks that lead outside it are kept too. */
  keepTree(dir: string, part: ClosurePart): void {
    const root = normalizeMemberName(dir);
    for (const e of this.rootfs.index.entries.values()) {
      if (!isWithin(e.path, root)) continue;
      this.keep(e.path, part);
      if (e.type === 'symlink') this.keepResolved(e.path, part);
    }
  }

  /** Every kept path outside the `omit` trees with the directories above it (`''`, the root, excluded). */
  withParents(omit: readonly string[] = []): Set<string> {
    const all = new Set<string>();
    for (const p of this.kept.keys()) {
      if (omit.some((o) => isWithin(p, o))) continue;
      for (let d = p; d !== '' && !all.has(d); d = parentOf(d)) all.add(d);
    }
    return all;
  }

  /** Bytes and files (non-directories) per part; `sizeOf` gives a kept file's final size. */
  totals(sizeOf: (path: string) => number): Record<ClosurePart, Totals> {
    const out = Object.fromEntries(CLOSURE_PARTS.map((p) => [p, { bytes: 0, files: 0 }])) as Record<
      ClosurePart,
      Totals
    >;
    for (const [p, part] of this.kept) {
      const e = this.rootfs.index.entries.get(p);
      if (!e || e.type === 'directory') continue;
      out[part].files++;
      out[part].bytes += sizeOf(p);
    }
    return out;
  }
}

import { normalizeImagePath } from '../paths/normalize-image-path.js';

/**
 * Pure layer analysis, like dive's `Analyze(img)`: stacks the layers' tar entries into the final file tree (applying
 * whiteouts), and measures what is wasted — bytes of files that a later layer overwrites or deletes, so they ship in
 * the image but are never visible. Never talks to Docker; tested on fixtures.
 */

/** The kind of a tar entry, reduced to what the analysis needs. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

/** One entry of a layer tar (path normalised to `/a/b`; whiteout entries kept as they are in the tar). */
export interface LayerEntry {
  path: string;
  /** Content bytes (0 for everything but regular files). */
  size: number;
  type: EntryType;
  mode: number;
  linkname?: string;
  /** A regular file that starts with the ELF magic (an executable or shared library), seen as the layer streamed by. */
  elf?: true;
}

/** A node of the final (stacked) file tree. */
export interface TreeEntry {
  path: string;
  size: number;
  type: EntryType;
  mode: number;
  /** Index of the layer that provides this version of the path (-1 for implicit parent directories). */
  layer: number;
  linkname?: string;
  /** An ELF file (see {@link LayerEntry.elf}). */
  elf?: true;
}

/** A path with bytes wasted: copies hidden by a later layer (overwritten or deleted). */
export interface Inefficiency {
  path: string;
  /** Hidden copies. */
  count: number;
  wastedBytes: number;
  /** Layers whose copies are hidden. */
  layers: number[];
  /** True when the path is absent from the final tree (deleted), false when a later copy is visible (overwritten). */
  removed: boolean;
}

export interface LayerSummary {
  index: number;
  /** Sum of the regular-file sizes in this layer (what dive shows as a layer's size). */
  sizeBytes: number;
  /** Tar entries, whiteouts included. */
  entryCount: number;
  /** Whiteouts (`.wh.*`) in this layer. */
  whiteoutCount: number;
  /** Bytes of this layer's files hidden by later layers. */
  wastedBytes: number;
}

export interface LayerAnalysis {
  layers: LayerSummary[];
  /** The final file tree, keyed by absolute path (no whiteouts). `/` is not included. */
  tree: Map<string, TreeEntry>;
  /** Regular-file bytes over all layers. */
  totalBytes: number;
  /** Regular-file bytes visible in the final tree. */
  finalBytes: number;
  /** `totalBytes - finalBytes`: overwritten or deleted by later layers. */
  wastedBytes: number;
  /** `finalBytes / totalBytes` (1 for an empty image). dive's score is similar; ours counts each hidden copy once. */
  efficiency: number;
  /** Paths with wasted bytes, largest first. */
  inefficiencies: Inefficiency[];
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Stacks `layers` (bottom first) into the final tree and measures waste.
 * Whiteouts: `.wh.<name>` deletes `<name>` (and what is under it) from lower layers; `.wh..wh..opq` hides everything a
 * lower layer put in that directory. A layer's whiteouts apply before its own entries, as overlayfs does.
 */
export function analyzeLayers(layers: readonly { entries: readonly LayerEntry[] }[]): LayerAnalysis {
  const stack = new LayerStack();
  layers.forEach((layer, index) => stack.addLayer(layer.entries, index));
  return stack.analysis();
}

/** The file tree while layers are stacked on it, with the bytes each layer wastes. */
class LayerStack {
  private readonly tree = new Map<string, TreeEntry>();
  private readonly children = new Map<string, Set<string>>();
  private readonly summaries: LayerSummary[] = [];
  private readonly waste = new Map<string, { count: number; wastedBytes: number; layers: number[] }>();
  private totalBytes = 0;

  addLayer(entries: readonly LayerEntry[], index: number): void {
    const summary: LayerSummary = { index, sizeBytes: 0, entryCount: 0, whiteoutCount: 0, wastedBytes: 0 };
    this.summaries.push(summary);
    // Whiteouts first: they refer to lower layers only.
    const additions = this.applyWhiteouts(entries, summary);
    for (const entry of additions) {
      const size = entry.type === 'file' ? entry.size : 0;
      summary.sizeBytes += size;
      this.totalBytes += size;
      this.add(entry, size, index);
    }
  }

  analysis(): LayerAnalysis {
    const { tree, totalBytes } = this;
    let finalBytes = 0;
    for (const node of tree.values()) finalBytes += node.size;
    const inefficiencies: Inefficiency[] = [...this.waste.entries()]
      .map(([path, w]) => ({ path, ...w, removed: !tree.has(path) }))
      .sort((a, b) => b.wastedBytes - a.wastedBytes || a.path.localeCompare(b.path));
    return {
      layers: this.summaries,
      tree,
      totalBytes,
      finalBytes,
      wastedBytes: totalBytes - finalBytes,
      efficiency: totalBytes === 0 ? 1 : finalBytes / totalBytes,
      inefficiencies,
    };
  }

  /** Applies the layer's whiteouts and returns its other entries, paths normalised. */
  private applyWhiteouts(entries: readonly LayerEntry[], summary: LayerSummary): LayerEntry[] {
    const additions: LayerEntry[] = [];
    for (const entry of entries) {
      summary.entryCount++;
      const path = normalizeImagePath(entry.path);
      const base = baseOf(path);
      if (base === OPAQUE) {
        summary.whiteoutCount++;
        this.removeChildren(parentOf(path));
      } else if (base.startsWith(WHITEOUT_PREFIX)) {
        summary.whiteoutCount++;
        // `.wh..wh.plnk` and friends are aufs metadata, not deletions.
        if (!base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX))
          this.removeSubtree(parentOf(path) + (parentOf(path) === '/' ? '' : '/') + base.slice(WHITEOUT_PREFIX.length));
      } else if (path !== '/') {
        additions.push({ ...entry, path });
      }
    }
    return additions;
  }

  private add(entry: LayerEntry, size: number, index: number): void {
    const existing = this.tree.get(entry.path);
    if (existing) {
      if (existing.type === 'directory' && entry.type === 'directory') {
        this.tree.set(entry.path, { ...existing, mode: entry.mode, layer: index });
        return;
      }
      this.removeSubtree(entry.path);
    }
    this.ensureParents(entry.path);
    this.tree.set(entry.path, {
      path: entry.path,
      size,
      type: entry.type,
      mode: entry.mode,
      layer: index,
      ...(entry.linkname !== undefined && { linkname: entry.linkname }),
      ...(entry.elf && { elf: true as const }),
    });
    this.link(entry.path);
  }

  /** Counts a node's bytes as wasted: a later layer overwrote or deleted it. */
  private hide(node: TreeEntry): void {
    if (node.size <= 0 || node.layer < 0) return;
    const w = this.waste.get(node.path) ?? { count: 0, wastedBytes: 0, layers: [] };
    w.count++;
    w.wastedBytes += node.size;
    if (!w.layers.includes(node.layer)) w.layers.push(node.layer);
    this.waste.set(node.path, w);
    const s = this.summaries[node.layer];
    if (s) s.wastedBytes += node.size;
  }

  private removeChildren(path: string): void {
    const kids = this.children.get(path);
    if (!kids) return;
    for (const kid of kids) this.removeSubtree(kid, false);
    this.children.delete(path);
  }

  /** Removes a path and everything below it, counting hidden file bytes as waste. */
  private removeSubtree(path: string, unlink = true): void {
    const node = this.tree.get(path);
    if (!node) return;
    if (node.type === 'directory') this.removeChildren(path);
    this.hide(node);
    this.tree.delete(path);
    if (unlink) this.children.get(parentOf(path))?.delete(path);
  }

  private link(path: string): void {
    const parent = parentOf(path);
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(path);
  }

  private ensureParents(path: string): void {
    const parent = parentOf(path);
    if (parent === '/') return;
    const existing = this.tree.get(parent);
    if (existing?.type === 'directory') return;
    if (existing) this.removeSubtree(parent);
    this.ensureParents(parent);
    this.tree.set(parent, { path: parent, size: 0, type: 'directory', mode: 0o755, layer: -1 });
    this.link(parent);
  }
}

/**
 * Bytes (regular files) under each path of the final tree; a file path gives its own size, a missing path 0.
 * Symlinks are not followed.
 */
export function measurePaths(tree: ReadonlyMap<string, TreeEntry>, paths: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const norm = paths.map((p) => normalizeImagePath(p));
  for (const p of norm) out[p] = 0;
  for (const node of tree.values()) {
    if (node.size === 0) continue;
    for (const p of norm) {
      if (p === '/' || node.path === p || node.path.startsWith(p + '/')) out[p] = (out[p] ?? 0) + node.size;
    }
  }
  return out;
}

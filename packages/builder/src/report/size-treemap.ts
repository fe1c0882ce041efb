import { hierarchy, treemap, treemapSquarify } from 'd3-hierarchy';
import type { PythonDistribution } from '../inspect/python-distributions.js';
import type { ContentsReport } from './contents-report.js';

/**
 * The size treemap of an image: layer → path → Python distribution, built from the report's bounded per-layer path
 * list, and laid out (squarified) with d3-hierarchy. Pure; the HTML renderer draws the rectangles.
 */

export type TreemapKind = 'image' | 'layer' | 'directory' | 'file' | 'distribution' | 'other';

export interface TreemapNode {
  kind: TreemapKind;
  /** What the rectangle is labelled with. */
  label: string;
  /** Full path, distribution `name version`, or the layer's step: shown on hover. */
  title: string;
  sizeBytes: number;
  /** For distributions: the name (for highlighting changes). */
  distribution?: string;
  children: TreemapNode[];
}

/** A laid-out rectangle. */
export interface TreemapRect {
  node: TreemapNode;
  depth: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface Listed {
  path: string;
  sizeBytes: number;
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/'));
const baseOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Builds the node tree of one layer's listed paths (ancestor-closed), with `(other files)` for unlisted bytes. */
function pathNodes(listed: readonly Listed[], dists: readonly PythonDistribution[]): TreemapNode[] {
  const children = new Map<string, Listed[]>();
  for (const p of listed) {
    const parent = parentOf(p.path);
    const list = children.get(parent);
    if (list) list.push(p);
    else children.set(parent, [p]);
  }
  const build = (p: Listed): TreemapNode => {
    const kids = (children.get(p.path) ?? []).map(build);
    const node: TreemapNode = {
      kind: kids.length ? 'directory' : 'file',
      label: baseOf(p.path),
      title: p.path,
      sizeBytes: p.sizeBytes,
      children: withRemainder(p.sizeBytes, kids, p.path),
    };
    const site = dists.filter((d) => d.location === p.path);
    return compress(site.length ? groupByDistribution(node, site) : node);
  };
  return (children.get('') ?? []).map(build);
}

function withRemainder(size: number, kids: TreemapNode[], path: string): TreemapNode[] {
  const rest = size - kids.reduce((a, k) => a + k.sizeBytes, 0);
  if (kids.length === 0 || rest <= 0) return kids;
  return [...kids, { kind: 'other', label: '(other files)', title: `${path}/…`, sizeBytes: rest, children: [] }];
}

/** `/opt` → `/opt/venv` chains whose only child holds (nearly) everything become one rectangle: `opt/venv`. */
function compress(node: TreemapNode): TreemapNode {
  const only = node.children[0];
  if (node.children.length !== 1 || !only || only.kind !== 'directory') return node;
  return { ...only, label: `${node.label}/${only.label}` };
}

/** Under a site-packages directory, puts each distribution's directories and files into one distribution node. */
function groupByDistribution(site: TreemapNode, dists: readonly PythonDistribution[]): TreemapNode {
  const owner = new Map<string, PythonDistribution>();
  for (const d of dists) for (const name of d.importNames) owner.set(name, d);
  const distInfo = (label: string) =>
    dists.find((d) => label.toLowerCase().startsWith(`${d.name.toLowerCase().replace(/[-.]/g, '_')}-`));
  const groups = new Map<PythonDistribution, TreemapNode[]>();
  const rest: TreemapNode[] = [];
  for (const child of site.children) {
    const name = child.label.replace(/\.(py|pyc|so)$/, '').replace(/\.cpython-[^.]+$|\.abi3$/, '');
    const d = child.label.endsWith('.dist-info') ? distInfo(child.label) : owner.get(name);
    if (d) groups.set(d, [...(groups.get(d) ?? []), child]);
    else rest.push(child);
  }
  const distNodes: TreemapNode[] = [...groups.entries()].map(([d, kids]) => ({
    kind: 'distribution',
    label: d.name,
    title: `${d.name} ${d.version}`,
    distribution: d.name,
    sizeBytes: kids.reduce((a, k) => a + k.sizeBytes, 0),
    children: kids,
  }));
  return { ...site, children: [...distNodes, ...rest].sort((a, b) => b.sizeBytes - a.sizeBytes) };
}

/** The image's tree: one node per layer that provides listed bytes, then its paths. */
export function sizeTree(
  name: string,
  layers: readonly { index: number; createdBy: string }[],
  contents: ContentsReport,
): TreemapNode {
  const byLayer = new Map<number, Listed[]>();
  for (const p of contents.paths) {
    const list = byLayer.get(p.layer);
    if (list) list.push(p);
    else byLayer.set(p.layer, [p]);
  }
  const layerNodes: TreemapNode[] = [...byLayer.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, listed]) => {
      const children = pathNodes(listed, contents.python);
      const step = layers.find((l) => l.index === index)?.createdBy.replace(/\s+#\s*buildkit\s*$/, '') || '(base)';
      return {
        kind: 'layer',
        label: `#${index} ${step}`,
        title: `layer ${index}: ${step}`,
        sizeBytes: children.reduce((a, c) => a + c.sizeBytes, 0),
        children,
      };
    });
  const sizeBytes = layerNodes.reduce((a, l) => a + l.sizeBytes, 0);
  return { kind: 'image', label: name, title: name, sizeBytes, children: layerNodes };
}

/** Squarified layout of the tree in a `width` × `height` box; rectangles smaller than a pixel are left out. */
export function layoutTreemap(root: TreemapNode, width: number, height: number): TreemapRect[] {
  const h = hierarchy(root, (n) => n.children)
    // Only leaves carry a value: a node's own size is the sum of its children's.
    .sum((n) => (n.children.length ? 0 : n.sizeBytes))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  const laid = treemap<TreemapNode>()
    .tile(treemapSquarify)
    .size([width, height])
    .paddingOuter(2)
    .paddingTop((n) => (n.depth === 0 ? 0 : 16))
    .paddingInner(1)
    .round(true)(h);
  return laid
    .descendants()
    .filter((n) => n.x1 - n.x0 >= 1 && n.y1 - n.y0 >= 1)
    .map((n) => ({ node: n.data, depth: n.depth, x0: n.x0, y0: n.y0, x1: n.x1, y1: n.y1 }));
}

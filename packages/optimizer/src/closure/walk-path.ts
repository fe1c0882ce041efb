/** What one path component is, as {@link walkPath} asks: absent, a symlink with its target, or anything else. */
export type PathNode = { kind: 'missing' } | { kind: 'link'; target: string } | { kind: 'present' };

/** Linux's limit of symlinks followed while resolving one path (`ELOOP` beyond it). */
export const MAX_SYMLINKS = 40;

const split = (p: string): string[] => p.split('/').filter((s) => s !== '' && s !== '.');

/**
 * Resolves `p` inside a tree the way the kernel does: every component may be a symlink (absolute targets start again
 * at the root), `..` goes to the parent of what was reached. `lookup` is asked about each component by its resolved
 * path (relative to the root, no leading slash). Returns the resolved path and the symlinks passed on the way, in
 * order; `'missing'` when a component is absent, `'loop'` after more than {@link MAX_SYMLINKS} symlinks.
 */
export function walkPath(
  p: string,
  lookup: (resolved: string) => PathNode,
): { path: string; links: string[] } | 'missing' | 'loop' {
  const real: string[] = [];
  const links: string[] = [];
  let rest = split(p);
  while (rest.length > 0) {
    const [seg, ...tail] = rest as [string, ...string[]];
    rest = tail;
    if (seg === '..') {
      real.pop();
      continue;
    }
    const candidate = [...real, seg].join('/');
    const node = lookup(candidate);
    if (node.kind === 'missing') return 'missing';
    if (node.kind === 'link') {
      links.push(candidate);
      if (links.length > MAX_SYMLINKS) return 'loop';
      if (node.target.startsWith('/')) real.length = 0;
      rest = [...split(node.target), ...rest];
      continue;
    }
    real.push(seg);
  }
  return { path: real.join('/'), links };
}

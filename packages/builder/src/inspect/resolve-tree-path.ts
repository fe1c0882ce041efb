import type { TreeEntry } from './analyze-layers.js';

const MAX_SYMLINKS = 40;

/**
 * Where an absolute path leads in an image's final file tree, following symlinks in every component the way the
 * kernel would inside the container (absolute targets start at `/`, `..` goes to the parent of what was reached).
 * Undefined when a component is missing, or on a symlink loop. So `/bin/sh` in a merged-/usr image is found through
 * the `/bin` → `usr/bin` link.
 */
export function resolveTreePath(tree: ReadonlyMap<string, TreeEntry>, path: string): TreeEntry | undefined {
  const real: string[] = [];
  let rest = path.split('/').filter((s) => s !== '' && s !== '.');
  let links = 0;
  while (rest.length > 0) {
    const [seg, ...tail] = rest as [string, ...string[]];
    rest = tail;
    if (seg === '..') {
      real.pop();
      continue;
    }
    const entry = tree.get(`/${[...real, seg].join('/')}`);
    if (!entry) return undefined;
    if (entry.type === 'symlink' && entry.linkname !== undefined) {
      if (++links > MAX_SYMLINKS) return undefined;
      if (entry.linkname.startsWith('/')) real.length = 0;
      rest = [...entry.linkname.split('/').filter((s) => s !== '' && s !== '.'), ...rest];
      continue;
    }
    real.push(seg);
  }
  return tree.get(`/${real.join('/')}`);
}

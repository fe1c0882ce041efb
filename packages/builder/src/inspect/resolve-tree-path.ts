import { walkPath, type PathNode } from '@4pass/optimizer';
import type { TreeEntry } from './analyze-layers.js';

/**
 * Where an absolute path leads in an image's final file tree, following symlinks in every component the way the
 * kernel would inside the container (absolute targets start at `/`, `..` goes to the parent of what was reached).
 * Undefined when a component is missing, or on a symlink loop. So `/bin/sh` in a merged-/usr image is found through
 * the `/bin` → `usr/bin` link.
 */
export function resolveTreePath(tree: ReadonlyMap<string, TreeEntry>, path: string): TreeEntry | undefined {
  const walked = walkPath(path, (candidate): PathNode => {
    const entry = tree.get(`/${candidate}`);
    if (!entry) return { kind: 'missing' };
    return entry.type === 'symlink' && entry.linkname !== undefined
      ? { kind: 'link', target: entry.linkname }
      : { kind: 'present' };
  });
  return typeof walked === 'string' ? undefined : tree.get(`/${walked.path}`);
}

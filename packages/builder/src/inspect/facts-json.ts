import type { TreeEntry } from './analyze-layers.js';
import type { ImageFacts } from './inspect-image.js';
import type { KnownLayer } from './registry-image.js';

/** `ImageFacts` as JSON (its maps as arrays, kept files as base64), for the measurement cache. */
export interface StoredFacts extends Omit<ImageFacts, 'tree' | 'knownLayers'> {
  tree: TreeEntry[];
  knownLayers?: [string, { entries: KnownLayer['entries']; files: [string, string][] }][];
}

export function storeFacts(facts: ImageFacts): StoredFacts {
  const { tree, knownLayers, ...rest } = facts;
  return {
    ...rest,
    tree: [...tree.values()],
    ...(knownLayers && {
      knownLayers: [...knownLayers].map(([diffId, layer]) => [
        diffId,
        { entries: layer.entries, files: [...layer.files].map(([path, bytes]) => [path, bytes.toString('base64')]) },
      ]),
    }),
  };
}

export function restoreFacts(stored: StoredFacts): ImageFacts {
  const { tree, knownLayers, ...rest } = stored;
  return {
    ...rest,
    tree: new Map(tree.map((entry) => [entry.path, entry])),
    ...(knownLayers && {
      knownLayers: new Map(
        knownLayers.map(([diffId, layer]) => [
          diffId,
          {
            entries: layer.entries,
            files: new Map(layer.files.map(([path, base64]) => [path, Buffer.from(base64, 'base64')])),
          },
        ]),
      ),
    }),
  };
}

import type { TreeEntry } from './analyze-layers.js';
import type { ReadFile } from './python-distributions.js';
import { resolveTreePath } from './resolve-tree-path.js';

/**
 * The distribution an image says it is: `/etc/os-release` (else `/usr/lib/os-release`, its usual target) and, on
 * Debian, `/etc/debian_version` (the point release, `12.15`, which scanners put in package URLs). Scanners need it to
 * match the image's packages against their distribution's advisories. Pure.
 */

export interface OsRelease {
  /** `ID` (`debian`). */
  id: string;
  /** `VERSION_ID` (`12`). */
  versionId?: string;
  /** The most precise version known: `/etc/debian_version` when it is a number (`12.15`), else `VERSION_ID`. */
  version?: string;
  /** `PRETTY_NAME`. */
  prettyName?: string;
}

/** The `os-release` files and `debian_version`, for the layer reader to keep. */
export const OS_RELEASE_FILES: readonly string[] = ['/etc/os-release', '/usr/lib/os-release', '/etc/debian_version'];

/** `KEY=value` lines, values unquoted (os-release(5)). */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    const raw = m[2] ?? '';
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    out.set(m[1], quoted ? (quoted[2] ?? '').replace(/\\(.)/g, '$1') : raw);
  }
  return out;
}

/** The image's distribution, or undefined when it has no os-release with an `ID`. */
export function readOsRelease(tree: ReadonlyMap<string, TreeEntry>, read: ReadFile): OsRelease | undefined {
  const file = ['/etc/os-release', '/usr/lib/os-release']
    .map((p) => resolveTreePath(tree, p))
    .find((e) => e?.type === 'file');
  const text = file && read(file.path);
  if (text === undefined) return undefined;
  const fields = parseOsRelease(text.toString());
  const id = fields.get('ID');
  if (!id) return undefined;
  const versionId = fields.get('VERSION_ID');
  const debian = resolveTreePath(tree, '/etc/debian_version');
  const point = debian?.type === 'file' ? read(debian.path)?.toString().trim() : undefined;
  const version = id === 'debian' && point && /^\d+(\.\d+)*$/.test(point) ? point : versionId;
  const prettyName = fields.get('PRETTY_NAME');
  return {
    id,
    ...(versionId && { versionId }),
    ...(version && { version }),
    ...(prettyName && { prettyName }),
  };
}

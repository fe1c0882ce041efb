/**
 * License names from a Debian package's `/usr/share/doc/<name>/copyright`: the `License:` fields of the
 * machine-readable format (DEP-5; `GPL-2+ or Artistic` gives both names), else the `/usr/share/common-licenses/<name>`
 * files a free-form copyright file points at. Debian's short names are kept as written (`GPL-2+`, `BSD-3-clause`);
 * most are not SPDX identifiers. Pure.
 */

const COMMON_LICENSE = /\/usr\/share\/common-licenses\/([0-9A-Za-z_.+-]*[0-9A-Za-z+])/g;
const MAX_LICENSES = 32;

/** Unique license names in the order they first appear; `[]` when the file names none. */
export function copyrightLicenses(text: string): string[] {
  const names = new Set<string>();
  const add = (name: string) => {
    const trimmed = name.replace(/\s*\(.*$/, '').trim();
    if (trimmed && names.size < MAX_LICENSES) names.add(trimmed);
  };
  for (const line of text.split(/\r?\n/)) {
    const field = /^License:[ \t]*(.*)$/i.exec(line);
    if (field) for (const name of (field[1] ?? '').split(/\s+(?:or|and)\s+|\s*,\s*/i)) add(name);
  }
  if (names.size === 0) for (const m of text.matchAll(COMMON_LICENSE)) add(m[1] ?? '');
  return [...names];
}

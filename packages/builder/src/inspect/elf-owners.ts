import type { TreeEntry } from './analyze-layers.js';
import { packageFiles, resolveDirectoryLinks, type DebianPackage } from './debian-packages.js';
import { readDistInfos, type ReadFile } from './python-distributions.js';

/**
 * Which ELF files of an image belong to a package a scanner can see: a Debian package of dpkg's database (`status`,
 * or a distroless `status.d` entry) whose file list names the file, or a Python distribution whose `METADATA` exists
 * and whose `RECORD` names it. Scanners match those packages' versions against advisories; an ELF file no such
 * package owns (a binary copied in, a library whose package record was dropped) ships code no scanner accounts for.
 * Pure.
 */

export interface ElfOwnership {
  /** ELF files (executables, shared libraries, extension modules) in the final tree. */
  files: number;
  /** Those no visible package owns, sorted. */
  unowned: string[];
}

/** Owners of the final tree's ELF files among the image's Debian packages and Python distributions. */
export function elfOwnership(
  tree: ReadonlyMap<string, TreeEntry>,
  read: ReadFile,
  debian: readonly Pick<DebianPackage, 'name' | 'architecture'>[],
): ElfOwnership {
  const elf = [...tree.values()].filter((e) => e.type === 'file' && e.elf).map((e) => e.path);
  if (elf.length === 0) return { files: 0, unowned: [] };
  const owned = new Set<string>();
  for (const pkg of debian) {
    // dpkg lists `/lib/…` where merged-/usr images have `/usr/lib/…` behind the `/lib` link.
    for (const path of packageFiles(pkg, read) ?? [])
      owned.add(tree.has(path) ? path : resolveDirectoryLinks(path, tree));
  }
  for (const dist of readDistInfos(tree, read)) if (dist.hasMetadata) for (const path of dist.record) owned.add(path);
  return { files: elf.length, unowned: elf.filter((p) => !owned.has(p)).sort() };
}

import { isWithin } from './tree-index.js';
import { baseName, joinPath, type Layout } from './tree.js';

/** The names a virtual environment's own bin/ holds: its interpreter links and activation scripts. */
const VENV_BIN = /^(?:python[\d.]*|pypy[\d.]*|activate(?:\..*)?|Activate\.ps1)$/;

/** `p` is an entry of `binDir` itself (not deeper). */
const inBin = (p: string, binDir: string): boolean =>
  binDir === '' ? !p.includes('/') : p.startsWith(`${binDir}/`) && !p.includes('/', binDir.length + 1);

/**
 * Why a path may not be removed by any rule, whatever asked: only entries inside site-packages or the environment's
 * bin/ go, never site-packages itself or a directory above it, bin/ itself, pyvenv.cfg, the interpreter or the
 * activation scripts.
 */
export function protectedReason(layout: Layout, p: string): string | undefined {
  const { sitePackages: sp, binDir, venvRoot } = layout;
  if (isWithin(sp, p)) return p === sp ? 'site-packages itself' : 'a directory above site-packages';
  if (venvRoot !== undefined && (p === venvRoot || p === joinPath(venvRoot, 'pyvenv.cfg'))) return 'pyvenv.cfg';
  if (binDir !== undefined && p === binDir) return "the environment's bin/ itself";
  if (binDir !== undefined && inBin(p, binDir) && VENV_BIN.test(baseName(p))) {
    return "the environment's interpreter or activation script";
  }
  if (!isWithin(p, sp) && !(binDir !== undefined && isWithin(p, binDir))) return 'outside site-packages and bin/';
  return undefined;
}

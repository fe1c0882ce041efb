import type { Readable, Writable } from 'node:stream';
import { withSpool } from '../archive/tar-spool.js';
import { parseClosureOptions, type ClosureOptionsInput } from '../profile/closure-options.js';
import { planClosure, type ClosureReport } from './plan-closure.js';
import { rootfsFromDirectory, rootfsFromTar } from './rootfs.js';
import { writeClosureFromDirectory, writeClosureFromTar } from './write-closure.js';

/** Options of {@link closureTar}. */
export interface ClosureTarOptions {
  /** Directory for the spool file (default: the OS temp dir). */
  tmpDir?: string;
  /**
   * Give every directory this mtime. A container export's `/etc` changes whenever a container is created (the
   * engine writes hosts, hostname, resolv.conf); a fixed time keeps the output byte-identical for the same image.
   */
  directoryMtime?: Date;
  /**
   * Drop members that would land outside the root (absolute names, `..`, paths below a symlink member, symlinks
   * climbing out, hard links to such names) and list them in the report's `droppedMembers`, instead of refusing the
   * archive with {@link UnsafeMemberError}.
   */
  dropUnsafeMembers?: boolean;
}

/**
 * Compute the minimal tree of a root filesystem given as a tar stream (the Engine API export of a created, never
 * started container) and write it to `output` as a tar stream. The input is spooled to a temporary file; nothing is
 * written before it has been read and planned completely (on error `output` is left untouched). Member names are made
 * safe first, and `keep` matches the normalised names; a kept hard link whose target is left out becomes a file.
 * @throws {ProfileError} when the options are invalid
 * @throws {InvalidTarError} / {EmptyTarError} when the input is not a tar, or an empty one
 * @throws {UnsafeMemberError} when a member would land outside the root (unless `dropUnsafeMembers`)
 * @throws {ClosureError} when the tree lacks something the interpreter needs, or kept code imports a dropped module
 */
export async function closureTar(
  input: Readable,
  output: Writable,
  options: ClosureOptionsInput,
  opts: ClosureTarOptions = {},
): Promise<ClosureReport> {
  const parsed = parseClosureOptions(options);
  return withSpool(opts.tmpDir, async (fh) => {
    const { rootfs, members } = await rootfsFromTar(input, fh, opts.dropUnsafeMembers ?? false);
    const plan = await planClosure(rootfs, parsed);
    await writeClosureFromTar(members, fh, plan, output, opts.directoryMtime);
    return plan.report;
  });
}

/**
 * Compute the minimal tree of a root filesystem extracted into `dir` and write it to `output` as a tar stream.
 * @throws {ProfileError} when the options are invalid
 * @throws {ClosureError} when the tree lacks something the interpreter needs, or kept code imports a dropped module
 */
export async function closureDirectory(
  dir: string,
  output: Writable,
  options: ClosureOptionsInput,
): Promise<ClosureReport> {
  const parsed = parseClosureOptions(options);
  const plan = await planClosure(await rootfsFromDirectory(dir), parsed);
  await writeClosureFromDirectory(dir, plan, output);
  return plan.report;
}

import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OptimizerError } from '../shared/errors.js';
import { errnoOf } from '../shared/limits.js';
import { isWithin } from '../tree/tree-index.js';

/** The CLI cannot write a report where it was asked to; checked before anything changes. */
export class OutputPathError extends OptimizerError {
  override readonly name = 'OutputPathError' as const;
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot write the report to ${file}: ${detail}. Nothing was changed.`);
  }
}

/** An output file made before the work starts (so a bad path fails first), written at the end. */
export interface PreparedOutput {
  /** Write the content and put it in place. */
  commit(content: string): Promise<void>;
  /** Remove the temporary file unless it was committed. */
  abort(): Promise<void>;
}

/**
 * Check that `file` can be written and lies outside `dir` (the tree being changed), by creating its temporary file.
 * @throws {OutputPathError} when it cannot be
 */
export async function prepareOutput(file: string, dir: string): Promise<PreparedOutput> {
  const abs = path.resolve(file);
  let parent: string;
  try {
    parent = realpathSync(path.dirname(abs));
  } catch (err) {
    throw new OutputPathError(file, `its directory cannot be used (${errnoOf(err)})`);
  }
  let root: string | undefined;
  try {
    root = realpathSync(dir);
  } catch {
    root = undefined; // the directory's own error comes next, from the optimizer
  }
  if (root !== undefined && isWithin(parent.slice(1), root.slice(1))) {
    throw new OutputPathError(file, 'it is inside the directory being slimmed (write it elsewhere)');
  }
  if (statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new OutputPathError(file, 'it is a directory');
  const target = path.join(parent, path.basename(abs));
  const tmp = `${target}.4pass-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
  } catch (err) {
    throw new OutputPathError(file, `it cannot be created (${errnoOf(err)})`);
  }
  let done = false;
  return {
    async commit(content) {
      await fh?.writeFile(content);
      await fh?.close();
      fh = undefined;
      await rename(tmp, target);
      done = true;
    },
    async abort() {
      await fh?.close();
      fh = undefined;
      if (!done) await rm(tmp, { force: true });
    },
  };
}

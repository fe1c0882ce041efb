import { accessSync, constants } from 'node:fs';
import { chmod, chown, lstat, open, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ApplyError, TreeAccessError } from '../shared/errors.js';
import { errnoOf } from '../shared/limits.js';
import type { Plan } from './plan.js';
import { isWithin } from '../tree/tree-index.js';
import { baseName, parentOf } from '../tree/tree.js';

/** The changes applying a plan makes to the file system, one call each (tests hand in one that fails on the n-th). */
export interface ApplyOps {
  unlink(abs: string): Promise<void>;
  rmdir(abs: string): Promise<void>;
  /** Give `abs` new content: a new file beside it (same mode and owner) renamed over it. */
  replace(abs: string, content: Buffer): Promise<void>;
}

/** The name of a new file before it is renamed over `name`; a run killed in between leaves it (see {@link isLeftover}). */
const tempName = (name: string): string => `.${name}.4pass-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
const TEMP = /^\..+\.4pass-tmp-\d+-[0-9a-f]{8}$/;

/** A new file of an interrupted rewrite: the next run removes it. */
export function isLeftover(p: string): boolean {
  return TEMP.test(baseName(p));
}

/** Write the new content to a new file and rename it over the old name: other hard links keep the old content. */
async function replaceFile(abs: string, content: Buffer): Promise<void> {
  const st = await lstat(abs);
  if (!st.isFile()) throw Object.assign(new Error(`${abs} is no longer a regular file`), { code: 'EINVAL' });
  const tmp = path.join(path.dirname(abs), tempName(path.basename(abs)));
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    await chmod(tmp, st.mode & 0o7777);
    if (process.getuid?.() === 0) await chown(tmp, st.uid, st.gid);
    await rename(tmp, abs);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export const FS_OPS: ApplyOps = { unlink, rmdir, replace: replaceFile };

/**
 * Run `fn` over `items` with at most `limit` promises in flight. After a failure no item starts; it rejects with the
 * first failure once the running ones have settled, so nothing changes the tree after it returns.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      await fn(item).catch((err: unknown) => void (failure ??= { err }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

/**
 * Before the first change: every directory the plan changes entries of must be writable and searchable.
 * @throws {TreeAccessError} naming the first one that is not
 */
export function checkWritable(dir: string, paths: Iterable<string>): void {
  const dirs = new Set<string>();
  for (const p of paths) dirs.add(parentOf(p));
  for (const d of dirs) {
    const abs = d === '' ? dir : path.join(dir, d);
    try {
      accessSync(abs, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new TreeAccessError(abs, errnoOf(err), 'change entries of', 'make it writable by this user (u+wx)', {
        cause: err,
      });
    }
  }
}

/** All removed files of one directory, or one directory to rmdir. */
type Task = { files: string[] } | { dir: string };

/**
 * The order of removal: file tasks per directory (parallel unlinks in one directory would wait on its lock), largest
 * first, and directory tasks that become ready as soon as the last removed entry inside them is gone.
 */
class RemovalSchedule {
  readonly queue: Task[];
  /** Directories whose removed content is gone: they go first, so rmdirs overlap the remaining unlinks. */
  readonly ready: Task[] = [];
  private readonly remaining = new Map<string, number>();
  private next = 0;

  constructor(paths: readonly string[], isDir: (p: string) => boolean) {
    const set = new Set(paths);
    const groups = new Map<string, string[]>();
    for (const p of paths) {
      const parent = parentOf(p);
      if (set.has(parent)) this.remaining.set(parent, (this.remaining.get(parent) ?? 0) + 1);
      if (isDir(p)) continue;
      const g = groups.get(parent);
      if (g) g.push(p);
      else groups.set(parent, [p]);
    }
    this.queue = [...groups.values()].sort((a, b) => b.length - a.length).map((files) => ({ files }));
    for (const p of paths) if (isDir(p) && !this.remaining.has(p)) this.ready.push({ dir: p });
  }

  /** The next task to start, or undefined when none is ready. */
  take(): Task | undefined {
    return this.ready.pop() ?? this.queue[this.next++];
  }

  get pending(): boolean {
    return this.ready.length > 0 || this.next < this.queue.length;
  }

  /** A removed entry is gone: its directory becomes ready when it was the last one. */
  gone(p: string): void {
    const parent = parentOf(p);
    const left = this.remaining.get(parent);
    if (left === undefined) return;
    if (left > 1) this.remaining.set(parent, left - 1);
    else {
      this.remaining.delete(parent);
      this.ready.push({ dir: parent });
    }
  }
}

/**
 * Run the schedule's tasks, at most `limit` at once, until all are done. After a failure no task starts; it rejects
 * with the first failure once the running ones have stopped, so nothing changes the tree after it returns.
 */
function runSchedule(schedule: RemovalSchedule, limit: number, run: (task: Task) => Promise<void>): Promise<void> {
  let active = 0;
  let failure: { err: unknown } | undefined;
  return new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (!failure && active < limit) {
        const task = schedule.take();
        if (!task) break;
        active++;
        run(task).then(
          () => {
            active--;
            pump();
          },
          (err: unknown) => {
            active--;
            failure ??= { err };
            pump();
          },
        );
      }
      if (active > 0) return;
      if (failure) reject(failure.err as Error);
      else if (!schedule.pending) resolve();
    };
    pump();
  });
}

/** Counts the changes and turns a failed one into an {@link ApplyError} naming the file; none starts after it. */
class Progress {
  done = 0;
  private failed: ApplyError | undefined;
  constructor(
    private readonly dir: string,
    readonly total: number,
  ) {}
  async step(p: string, doing: string, change: () => Promise<void>): Promise<void> {
    if (this.failed) throw this.failed;
    try {
      await change();
    } catch (err) {
      const abs = p === '' ? this.dir : path.join(this.dir, p);
      this.failed ??= new ApplyError(abs, errnoOf(err), doing, this.done, this.total, { cause: err });
      throw this.failed;
    }
    this.done++;
  }
}

/** Remove `paths` (each removed directory is listed with everything in it) as fast as the file system allows. */
async function removeAll(dir: string, paths: string[], plan: Plan, ops: ApplyOps, progress: Progress): Promise<void> {
  const schedule = new RemovalSchedule(paths, (p) => plan.dirs.has(p));
  await runSchedule(schedule, 32, async (task) => {
    if ('dir' in task) {
      await progress.step(task.dir, 'remove the directory', () => ops.rmdir(path.join(dir, task.dir)));
      schedule.gone(task.dir);
      return;
    }
    for (const p of task.files) {
      await progress.step(p, 'remove', () => ops.unlink(path.join(dir, p)));
      schedule.gone(p);
    }
  });
}

/** One dist-info directory of a removed distribution: its files, RECORD last (it lists what is left), then the dirs. */
async function removeDistInfo(dir: string, paths: string[], plan: Plan, ops: ApplyOps, progress: Progress) {
  const depth = (p: string): number => p.split('/').length;
  const files = paths.filter((p) => !plan.dirs.has(p));
  const records = files.filter((p) => p.endsWith('/RECORD'));
  const dirs = paths.filter((p) => plan.dirs.has(p)).sort((a, b) => depth(b) - depth(a));
  const unlinkOne = (p: string): Promise<void> => progress.step(p, 'remove', () => ops.unlink(path.join(dir, p)));
  await forEachLimit(
    files.filter((p) => !records.includes(p)),
    16,
    unlinkOne,
  );
  for (const p of records) await unlinkOne(p);
  for (const p of dirs) await progress.step(p, 'remove the directory', () => ops.rmdir(path.join(dir, p)));
}

/**
 * Carry out a plan on `dir`, after checking that every directory it changes is writable: every removal but the
 * removed distributions' dist-info directories, then those in `plan.distInfoOrder`, then the rewrites (new file
 * renamed over the old). A run that stops anywhere leaves a tree the next run finishes to the same result: the
 * RECORDs it decides by are unchanged until the end, and a rewrite drops the rows of files already gone. `leftovers`
 * (new files of a rewrite a killed run left, see {@link isLeftover}) go first.
 * @throws {TreeAccessError} before any change, when a directory to change is not writable
 * @throws {ApplyError} when a change fails part-way
 */
export async function applyPlan(
  dir: string,
  plan: Plan,
  ops: ApplyOps = FS_OPS,
  leftovers: readonly string[] = [],
): Promise<void> {
  const removed = [...plan.removed.keys()];
  checkWritable(dir, [...removed, ...plan.rewrites.keys(), ...leftovers]);
  const progress = new Progress(dir, leftovers.length + plan.rewrites.size + removed.length);
  for (const p of leftovers) await progress.step(p, 'remove', () => ops.unlink(path.join(dir, p)));
  const byDistInfo = new Map<string, string[]>(plan.distInfoOrder.map((k) => [k, []]));
  const rest: string[] = [];
  for (const p of removed) {
    const key = plan.distInfoOrder.find((k) => isWithin(p, k));
    if (key === undefined) rest.push(p);
    else byDistInfo.get(key)?.push(p);
  }
  await removeAll(dir, rest, plan, ops, progress);
  for (const paths of byDistInfo.values()) await removeDistInfo(dir, paths, plan, ops, progress);
  // Last: until now every RECORD still says what its distribution owned, so a rerun decides as this run did.
  await forEachLimit([...plan.rewrites], 8, ([p, rw]) =>
    progress.step(p, 'rewrite', () => ops.replace(path.join(dir, p), rw.content)),
  );
}

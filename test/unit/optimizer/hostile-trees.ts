// Hand-made trees for the optimizer's hostile-input suite: a small virtual environment with fake distributions whose
// RECORDs say whatever a test wants, a fingerprint of a tree (content hashes and inodes) to prove what did not change,
// and runners for the CLI and for one optimizer call in a child process (as another user, or to measure its memory).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { FS_OPS, type ApplyOps } from '../../../packages/optimizer/src/plan/apply-plan.js';

const execFileAsync = promisify(execFile);

/** The repository root: children run from it so that `--import tsx` resolves. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = path.join(REPO, 'packages/optimizer/src/cli.ts');
export const CHILD = fileURLToPath(new URL('./bounded-child.ts', import.meta.url));

/** site-packages of the fake venvs. */
export const SP = 'lib/python3.11/site-packages';

/** A distribution of a fake venv. */
export interface FakeDist {
  name: string;
  version?: string;
  /** Files relative to site-packages, with their content. */
  files: Record<string, string | Buffer>;
  /** RECORD rows added as written (hostile ones). */
  extraRows?: string[];
  /** Files left out of RECORD. */
  unlisted?: string[];
  topLevel?: string[];
  /** Console scripts: `bin/<name>` is written and listed as `../../../bin/<name>`. */
  scripts?: string[];
  /** Console scripts only declared in entry_points.txt (hostile names). */
  declaredScripts?: string[];
  requires?: string[];
  requested?: boolean;
}

export const distInfo = (d: FakeDist): string => `${d.name}-${d.version ?? '1.0'}.dist-info`;

async function put(file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function writeDist(root: string, d: FakeDist): Promise<void> {
  const sp = path.join(root, SP);
  const info = distInfo(d);
  for (const [f, c] of Object.entries(d.files)) await put(path.join(sp, f), c);
  for (const s of d.scripts ?? []) await put(path.join(root, 'bin', s), `#!/bin/python\n# ${d.name}\n`);
  const meta = [
    `Name: ${d.name}`,
    `Version: ${d.version ?? '1.0'}`,
    ...(d.requires ?? []).map((r) => `Requires-Dist: ${r}`),
  ];
  await put(path.join(sp, info, 'METADATA'), `${meta.join('\n')}\n\n`);
  if (d.topLevel) await put(path.join(sp, info, 'top_level.txt'), d.topLevel.map((t) => `${t}\n`).join(''));
  const declared = [...(d.scripts ?? []), ...(d.declaredScripts ?? [])];
  if (declared.length > 0) {
    await put(
      path.join(sp, info, 'entry_points.txt'),
      `[console_scripts]\n${declared.map((s) => `${s} = x:main\n`).join('')}`,
    );
  }
  if (d.requested) await put(path.join(sp, info, 'REQUESTED'), '');
  const rows = [
    ...Object.keys(d.files).filter((f) => !(d.unlisted ?? []).includes(f)),
    ...(d.scripts ?? []).map((s) => `../../../bin/${s}`),
    `${info}/METADATA`,
    ...(d.topLevel ? [`${info}/top_level.txt`] : []),
    ...(declared.length > 0 ? [`${info}/entry_points.txt`] : []),
    `${info}/RECORD`,
    ...(d.extraRows ?? []),
  ];
  await put(path.join(sp, info, 'RECORD'), rows.map((r) => `${r.includes(',') ? `"${r}"` : r},,\n`).join(''));
}

/**
 * A gzip bomb: `members` concatenated gzip members of 32 MiB of spaces each (gzip readers, Python's and Node's,
 * decompress them as one stream): about 1 kB of input per MiB of output.
 */
export function gzipBomb(members: number): Buffer {
  const one = gzipSync(Buffer.alloc(32 << 20, 0x20), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => one));
}

/** A kept botocore with the given service models (`svc/version/file` → content) and endpoints.json. */
export function botocoreDist(models: Record<string, string | Buffer>, endpoints: string): FakeDist {
  const files: Record<string, string | Buffer> = {
    'botocore/__init__.py': '# botocore\n',
    'botocore/data/endpoints.json': endpoints,
  };
  for (const [p, c] of Object.entries(models)) files[`botocore/data/${p}`] = c;
  return { name: 'botocore', files };
}

/** An endpoints.json with these services in one partition. */
export const endpointsJson = (services: readonly string[]): string =>
  JSON.stringify({ partitions: [{ partition: 'aws', services: Object.fromEntries(services.map((s) => [s, {}])) }] });

/** A virtual environment in `root`: pyvenv.cfg, bin/python (a link out), bin/activate, include/, lib64, the dists. */
export async function writeVenv(root: string, dists: readonly FakeDist[]): Promise<void> {
  await put(path.join(root, 'pyvenv.cfg'), 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n');
  await mkdir(path.join(root, 'bin'), { recursive: true });
  await symlink('/usr/bin/python3', path.join(root, 'bin/python'));
  await put(path.join(root, 'bin/activate'), '# activate\n');
  await mkdir(path.join(root, 'include'), { recursive: true });
  await mkdir(path.join(root, SP), { recursive: true });
  await symlink('lib', path.join(root, 'lib64'));
  for (const d of dists) await writeDist(root, d);
}

/**
 * Every entry below `dir` with its type, mode, size, symlink target, content hash and (with `inodes`) inode: equal
 * fingerprints mean nothing was written, removed, replaced or re-linked. Link counts and times are left out.
 */
export function fingerprint(dir: string, opts: { inodes?: boolean } = {}): string {
  const lines: string[] = [];
  // Names are read as bytes: a tree may hold names that are not UTF-8.
  const walk = (rel: Buffer): void => {
    const here = rel.length === 0 ? Buffer.from(dir) : Buffer.concat([Buffer.from(`${dir}/`), rel]);
    const names = readdirSync(here, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const p = rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]);
      const abs = Buffer.concat([Buffer.from(`${dir}/`), p]);
      const st = lstatSync(abs);
      const ino = opts.inodes === false ? '' : ` ino=${st.ino}`;
      let what = '';
      if (st.isSymbolicLink()) what = `-> ${readlinkSync(abs, 'latin1')}`;
      else if (st.isFile()) what = createHash('sha256').update(readFileSync(abs)).digest('hex');
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
      lines.push(`${p.toString('latin1')} ${type} ${(st.mode & 0o7777).toString(8)}${ino} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(Buffer.alloc(0));
  return lines.join('\n');
}

/** `chattr +i` / `-i`: an immutable entry cannot be changed or removed, even by root. */
export async function immutable(p: string, on: boolean): Promise<void> {
  await execFileAsync('chattr', [on ? '+i' : '-i', p]);
}

/** What a child process printed and how it ended. */
export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a TypeScript entry of the repository in a child Node (through tsx), optionally as another user. */
export async function runTs(
  entry: string,
  args: readonly string[],
  opts: { uid?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult> {
  if (opts.uid === undefined) return run([process.execPath, '--import', 'tsx', entry, ...args], REPO, opts.env);
  // Another user may not reach this checkout (a home directory, a private temporary one): it runs the entry bundled
  // into a directory anyone can read, and starts there.
  const dir = await mkdtemp(path.join(tmpdir(), '4pass-bundle-'));
  try {
    const bundle = await bundleForAnyone(entry, dir);
    const as = ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', '--'];
    return await run([...as, process.execPath, bundle, ...args], dir, opts.env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(command: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const [file, ...argv] = command;
  try {
    const r = await execFileAsync(file as string, argv, { cwd, env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `entry` bundled by the optimizer's esbuild into one file in `dir`, which every user may read. */
async function bundleForAnyone(entry: string, dir: string): Promise<string> {
  await chmod(dir, 0o755);
  const out = path.join(dir, `${path.basename(entry, '.ts')}.mjs`);
  const esbuild = path.join(REPO, 'packages/optimizer/node_modules/.bin/esbuild');
  const requireShim = 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);';
  const options = ['--bundle', '--platform=node', '--format=esm', `--banner:js=${requireShim}`, '--log-level=warning'];
  await execFileAsync(esbuild, [entry, ...options, `--outfile=${out}`]);
  await chmod(out, 0o644);
  return out;
}

/** The outcome of one optimizer call made by `bounded-child.ts`, with the child's peak resident memory. */
export interface BoundedOutcome {
  error?: string;
  message?: string;
  path?: string;
  maxRssMb: number;
  result?: unknown;
}

/** Run one case of `bounded-child.ts` and read its outcome. */
export async function runBounded(args: readonly string[]): Promise<BoundedOutcome> {
  const r = await runTs(CHILD, args);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as BoundedOutcome;
  } catch {
    throw new Error(`the child failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  }
}

/** File-system changes that fail with EIO once `n` have been made: a run stopped at any point. */
export function failingAfter(n: number): ApplyOps {
  let left = n;
  const gate =
    <A extends unknown[]>(fn: (...a: A) => Promise<void>) =>
    async (...a: A): Promise<void> => {
      if (left-- <= 0) throw Object.assign(new Error('injected failure'), { code: 'EIO' });
      await fn(...a);
    };
  return { unlink: gate(FS_OPS.unlink), rmdir: gate(FS_OPS.rmdir), replace: gate(FS_OPS.replace) };
}

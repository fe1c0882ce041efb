// Real wheels for the optimizer tests: installed once per package set and cached in the OS temp dir, so the suite
// stays fast. Tests copy the cached tree before changing it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** Where the local wheels are (see shared/docs/environment.md); PyPI is unreachable. */
const WHEEL_DIRS = (process.env.FOURPASS_WHEEL_DIRS ?? '/opt/pypi/files:/opt/pypi-more/files').split(':');

export const PYTHON = process.env.FOURPASS_PYTHON ?? 'python3';

/** The package set of the acceptance tests. */
export const ACCEPTANCE_PACKAGES = ['boto3', 'botocore', 's3transfer', 'pydantic', 'pip', 'setuptools', 'pygments'];

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function pipArgs(): string[] {
  return ['--disable-pip-version-check', '--no-index', ...WHEEL_DIRS.flatMap((d) => ['--find-links', d])];
}

async function cached(kind: string, packages: string[], build: (dir: string) => Promise<void>): Promise<string> {
  const { stdout: version } = await run(PYTHON, ['-c', 'import sys; print(sys.version)']);
  const key = createHash('sha256')
    .update(JSON.stringify([kind, packages, version, WHEEL_DIRS]))
    .digest('hex')
    .slice(0, 16);
  const root = path.join(tmpdir(), '4pass-optimizer-wheels');
  const dir = path.join(root, `${kind}-${key}`);
  if (await exists(path.join(dir, '.complete'))) return dir;
  await mkdir(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await build(tmp);
  await run('touch', [path.join(tmp, '.complete')]);
  try {
    await rename(tmp, dir);
  } catch {
    // Another test file won the race; use its copy.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** `python3 -m pip install --target` of `packages` (pip byte-compiles, as it does by default). Do not modify it. */
export function targetInstall(packages: string[] = ACCEPTANCE_PACKAGES): Promise<string> {
  return cached('target', packages, async (dir) => {
    await run(PYTHON, ['-m', 'pip', 'install', '-q', ...pipArgs(), '--target', dir, ...packages], {
      maxBuffer: 1 << 26,
      env: { ...process.env, PIP_NO_WARN_SCRIPT_LOCATION: '1' },
    });
  });
}

/** A real venv (`python3 -m venv`, pip and setuptools from ensurepip) with `packages` installed. Do not modify it. */
export function venvInstall(packages: string[] = ['boto3']): Promise<string> {
  return cached('venv', packages, async (dir) => {
    await run(PYTHON, ['-m', 'venv', dir]);
    await run(path.join(dir, 'bin/python'), ['-m', 'pip', 'install', '-q', ...pipArgs(), ...packages], {
      maxBuffer: 1 << 26,
    });
  });
}

/** A fresh copy of a cached tree, in its own temp dir (removed by `cleanup`). */
export async function freshCopy(src: string, name = 'tree'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(tmpdir(), '4pass-opt-test-'));
  const dir = path.join(parent, name);
  await run('cp', ['-a', src, dir]); // coreutils: several times faster than fs.cp on thousands of files
  await rm(path.join(dir, '.complete'), { force: true });
  return { dir, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

/** du-style totals measured with find(1), independent of the optimizer: regular-file bytes, non-directory count. */
export async function measure(dir: string): Promise<{ bytes: number; files: number }> {
  const { stdout: sizes } = await run('find', [dir, '-type', 'f', '-printf', '%s\n'], { maxBuffer: 1 << 26 });
  const { stdout: all } = await run('find', [dir, '!', '-type', 'd', '-printf', '.\n'], { maxBuffer: 1 << 26 });
  const bytes = sizes
    .split('\n')
    .filter((l) => l !== '')
    .reduce((a, l) => a + Number(l), 0);
  return { bytes, files: all.split('\n').filter((l) => l !== '').length };
}

/** Every path below `dir` with size and mode, to prove a tree was not touched. */
export async function snapshot(dir: string): Promise<string> {
  const { stdout } = await run('find', [dir, '-printf', '%P %y %s %m %T@\n'], { maxBuffer: 1 << 26 });
  return stdout.split('\n').sort().join('\n');
}

/** Run a smoke program with the host python against a `--target` tree. */
export async function runSmoke(
  program: string,
  site: string,
  opts: { python?: string; pythonPath?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), '4pass-smoke-'));
  const file = path.join(dir, 'smoke.py');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, program);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (opts.pythonPath ?? true) env.PYTHONPATH = site;
  try {
    const r = await run(opts.python ?? PYTHON, ['-s', '-B', file, '--site', site], { env, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

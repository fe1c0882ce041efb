// Property: on any tree of fake distributions with random RECORDs (their own files, other distributions' files,
// directories, paths out of site-packages and out of the tree), hard links to files outside and symlinks out, the
// optimizer changes nothing outside the target (content hashes and inodes), leaves what kept distributions list and
// what the venv owns, changes nothing on a second run, and a run stopped after any number of changes is finished by
// the next one to the same tree as a clean run.
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, defaultProfile, optimizeDirectory } from '@4pass/optimizer';
import { applyPlan } from '../../../packages/optimizer/src/plan/apply-plan.js';
import { planDirectory } from '../../../packages/optimizer/src/optimize/optimize-directory.js';
import { SP, failingAfter, fingerprint, writeVenv, type FakeDist } from './hostile-trees.js';
import { run } from './wheels.js';

const NAMES = ['pip', 'setuptools', 'wheel', 'keeper', 'alpha', 'beta'] as const;
const FILES = ['__init__.py', 'a.py', 'sub/b.py', 'data.txt', '__pycache__/a.cpython-311.pyc'] as const;

/** RECORD rows a distribution may carry besides its own files: other distributions' files and directories, paths out. */
const ROWS = [
  ...NAMES.flatMap((n) => [`${n}/__init__.py`, `${n}/a.py`, `ns/${n}/__init__.py`, `${n}-1.0.dist-info/METADATA`, n]),
  'ns',
  '../..',
  './',
  '../../../bin/python',
  '../../../bin/activate',
  '../../../pyvenv.cfg',
  '../../../../outside/canary.txt',
  '../../../../outside/cache/alpha/a.py',
  '/etc/passwd',
  'lnk/canary.txt',
  'lnk',
];

/** Files that may be hard links to a copy outside the tree (as installers' caches make them), and symlinks. */
const LINKABLE = NAMES.flatMap((n) => [`${n}/a.py`, `${n}/data.txt`, `${n}-1.0.dist-info/RECORD`]);
const SYMLINKS: Record<string, string> = {
  lnk: '../../../../outside',
  'alpha/up': '../../../../../outside/canary.txt',
  'keeper/etc': '/etc',
};

const distArb = fc.record({
  name: fc.constantFrom(...NAMES),
  files: fc.subarray([...FILES], { minLength: 1 }),
  ns: fc.boolean(),
  unlisted: fc.subarray([...FILES]),
  rows: fc.subarray(ROWS, { maxLength: 6 }),
  script: fc.boolean(),
  requested: fc.boolean(),
  requires: fc.subarray([...NAMES], { maxLength: 2 }),
});

const treeArb = fc.record({
  dists: fc.uniqueArray(distArb, { selector: (d) => d.name, minLength: 1, maxLength: 5 }),
  hardLinks: fc.subarray(LINKABLE, { maxLength: 6 }),
  symlinks: fc.subarray(Object.keys(SYMLINKS)),
  stopAfter: fc.nat({ max: 40 }),
});

type Tree = typeof treeArb extends fc.Arbitrary<infer T> ? T : never;

/** The random distributions, and one that is always kept (a tree whose every dist-info went is no tree to rerun on). */
function fakeDists(tree: Tree): FakeDist[] {
  const zeta: FakeDist = { name: 'zeta', files: { 'zeta.py': 'z = 1\n' } };
  return [
    zeta,
    ...tree.dists.map((d) => {
      const files: Record<string, string> = {};
      for (const f of d.files) files[`${d.name}/${f}`] = `${d.name}/${f}\n`;
      if (d.ns) files[`ns/${d.name}/__init__.py`] = `ns ${d.name}\n`;
      return {
        name: d.name,
        files,
        unlisted: d.unlisted.map((f) => `${d.name}/${f}`),
        extraRows: d.rows,
        ...(d.script ? { scripts: [`${d.name}-cli`] } : {}),
        requested: d.requested,
        requires: d.requires.filter((r) => r !== d.name),
      };
    }),
  ];
}

/** Build the tree in `root`, with the chosen files hard linked to copies in `outside/cache`, and the symlinks. */
async function build(tree: Tree, root: string, outside: string): Promise<void> {
  await fsp.mkdir(path.join(outside, 'cache'), { recursive: true });
  await fsp.writeFile(path.join(outside, 'canary.txt'), 'canary\n');
  await writeVenv(root, fakeDists(tree));
  const sp = path.join(root, SP);
  for (const p of tree.hardLinks) {
    if (!existsSync(path.join(sp, p))) continue;
    const cached = path.join(outside, 'cache', p);
    await fsp.mkdir(path.dirname(cached), { recursive: true });
    await fsp.copyFile(path.join(sp, p), cached);
    await fsp.rm(path.join(sp, p));
    await fsp.link(cached, path.join(sp, p));
  }
  for (const l of tree.symlinks) {
    if (!existsSync(path.dirname(path.join(sp, l)))) continue;
    await fsp.rm(path.join(sp, l), { recursive: true, force: true });
    await fsp.symlink(SYMLINKS[l] as string, path.join(sp, l));
  }
}

/** Files the kept distributions' RECORDs list (no bytecode: a stale .pyc may go), with their content hash. */
function keptListed(root: string, kept: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const info of kept) {
    const record = path.join(root, SP, info, 'RECORD');
    if (!existsSync(record)) continue;
    for (const line of readFileSync(record, 'utf8').split('\n')) {
      const rel = line.split(',')[0] ?? '';
      const abs = path.resolve(root, SP, rel);
      if (rel === '' || rel.endsWith('.pyc') || !abs.startsWith(`${root}/`) || rel.endsWith('/RECORD')) continue;
      // Through a symlink (a row naming lnk/x) the file is not the tree's: a removed distribution may own the link.
      if (!existsSync(path.dirname(abs)) || realpathSync(path.dirname(abs)) !== path.dirname(abs)) continue;
      if (!lstatSync(abs, { throwIfNoEntry: false })?.isFile()) continue;
      out.set(abs, createHash('sha256').update(readFileSync(abs)).digest('hex'));
    }
  }
  return out;
}

const VENV_OWN = ['pyvenv.cfg', 'bin/python', 'bin/activate', 'include', 'lib64'];

async function check(tree: Tree, dir: string): Promise<void> {
  const root = path.join(dir, 'venv');
  const outside = path.join(dir, 'outside');
  await build(tree, root, outside);
  const twin = path.join(dir, 'twin');
  await run('cp', ['-a', root, twin]);
  const outsideBefore = fingerprint(outside);
  const venvOwn = fingerprint(root)
    .split('\n')
    .filter((l) => VENV_OWN.some((v) => l.startsWith(`${v} `)));
  const plan = await planDirectory(root, defaultProfile);
  const kept = plan.report.distributions.filter((d) => d.action === 'kept' && d.distInfo !== '').map((d) => d.distInfo);
  const listed = keptListed(
    root,
    kept.map((k) => path.basename(k)),
  );

  await optimizeDirectory(root, defaultProfile);
  expect(fingerprint(outside)).toBe(outsideBefore);
  const after = fingerprint(root);
  for (const line of venvOwn) expect(after.split('\n')).toContain(line);
  for (const [abs, hash] of listed) {
    expect(existsSync(abs), abs).toBe(true);
    expect(createHash('sha256').update(readFileSync(abs)).digest('hex'), abs).toBe(hash);
  }

  await optimizeDirectory(root, defaultProfile);
  expect(fingerprint(root)).toBe(after);
  expect(fingerprint(outside)).toBe(outsideBefore);

  const stopped = await applyPlan(twin, await planDirectory(twin, defaultProfile), failingAfter(tree.stopAfter)).catch(
    (e: unknown) => e,
  );
  if (stopped !== undefined) expect(stopped).toBeInstanceOf(ApplyError);
  await optimizeDirectory(twin, defaultProfile);
  expect(fingerprint(twin, { inodes: false })).toBe(fingerprint(root, { inodes: false }));
}

let work: string;
beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(tmpdir(), '4pass-property-'));
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

describe('optimizeDirectory on random hostile trees', () => {
  it('changes nothing outside, keeps what it does not own, is idempotent, and converges after a stop', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(treeArb, async (tree) => {
        const dir = path.join(work, `run-${++n}`);
        try {
          await check(tree, dir);
        } finally {
          await fsp.rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.FOURPASS_PROPERTY_RUNS ?? 100) },
    );
  }, 600_000);

  it('the generator reaches the cases that matter', () => {
    const samples = fc.sample(treeArb, { numRuns: 200, seed: 20 });
    const removed = samples.filter((t) => t.dists.some((d) => ['pip', 'setuptools', 'wheel'].includes(d.name)));
    const hostile = samples.filter((t) => t.dists.some((d) => d.rows.some((r) => r.startsWith('..') || r === './')));
    expect(removed.length).toBeGreaterThan(100);
    expect(hostile.length).toBeGreaterThan(80);
    expect(samples.filter((t) => t.hardLinks.length > 0).length).toBeGreaterThan(100);
  });
});

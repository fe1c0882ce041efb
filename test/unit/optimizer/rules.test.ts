import { describe, expect, it } from 'vitest';
import { defaultProfile, parseProfile, type Profile } from '@4pass/optimizer';
import { planOptimization } from '../../../packages/optimizer/src/plan/plan.js';
import { RULES, RULE_NAMES } from '../../../packages/optimizer/src/rules/rules.js';
import { indexTree } from '../../../packages/optimizer/src/tree/tree-index.js';
import type { TreeEntry } from '../../../packages/optimizer/src/tree/tree.js';

/** A small in-memory site-packages: path → content (a directory when the path ends with '/'). */
function plan(
  files: Record<string, string>,
  profile: Profile = defaultProfile,
  testImports: [string, string[]][] = [['app/uses_tests.py', ['app.tests.helpers']]],
) {
  const entries: TreeEntry[] = Object.entries(files).map(([p, c]) =>
    p.endsWith('/')
      ? { path: p.slice(0, -1), type: 'directory', size: 0 }
      : { path: p, type: 'file', size: Buffer.byteLength(c) },
  );
  const content = new Map(Object.entries(files).map(([p, c]) => [p, Buffer.from(c)]));
  return planOptimization({
    inputName: 'fixture',
    index: indexTree(entries),
    layout: { sitePackages: '', pythonTag: 'cpython-311' },
    content,
    testImports: new Map(testImports),
    profile,
    dryRun: true,
  });
}

const record = (...paths: string[]): string => paths.map((p) => `${p},,\n`).join('');
const TREE: Record<string, string> = {
  'pip-1.0.dist-info/METADATA': 'Name: pip\nVersion: 1.0\n',
  'pip-1.0.dist-info/RECORD': record('pip/__init__.py', 'pip-1.0.dist-info/RECORD'),
  'pip/__init__.py': 'x',
  'app-1.0.dist-info/METADATA': 'Name: app\nVersion: 1.0\n',
  'app-1.0.dist-info/RECORD': record('app/__init__.py', 'app/tests/__init__.py', 'lib/tests/t.py', 'lib/docs/x.rst'),
  'app/__init__.py': '',
  'app/uses_tests.py': 'from app.tests import helpers\n',
  'app/tests/__init__.py': '',
  'app/tests/helpers.py': '',
  'lib/__init__.py': '',
  'lib/tests/t.py': 'assert 1\n',
  'lib/docs/x.rst': 'docs',
  'lib/__pycache__/gone.cpython-311.pyc': 'stale: no source',
  'lib/__pycache__/__init__.cpython-310.pyc': 'another interpreter',
  'lib/__pycache__/__init__.cpython-311.pyc': 'fresh',
};

describe('the rule list', () => {
  it('names every rule once, in the order they run, and the report counts each', () => {
    expect(new Set(RULE_NAMES).size).toBe(RULES.length);
    expect(RULE_NAMES).toEqual(RULES.map((r) => r.name));
    expect(Object.keys(plan(TREE).report.rules)).toEqual(RULE_NAMES);
  });
});

describe('planOptimization on a small tree', () => {
  it('credits each removal to the rule that made it, and later rules see earlier removals', () => {
    const p = plan(TREE);
    const by = (rule: string): string[] =>
      [...p.removed]
        .filter(([, r]) => r === rule)
        .map(([path]) => path)
        .sort();
    expect(by('remove-distribution')).toEqual([
      'pip',
      'pip-1.0.dist-info',
      'pip-1.0.dist-info/METADATA',
      'pip-1.0.dist-info/RECORD',
      'pip/__init__.py',
    ]);
    expect(by('strip-tests')).toEqual(['lib/tests', 'lib/tests/t.py']);
    expect(by('strip-docs')).toEqual(['lib/docs', 'lib/docs/x.rst']);
    expect(by('stale-bytecode')).toEqual([
      'lib/__pycache__/__init__.cpython-310.pyc',
      'lib/__pycache__/gone.cpython-311.pyc',
    ]);
    expect(p.removed.has('app/tests')).toBe(false);
    expect(p.report.warnings).toContain('kept app/tests: the package app.tests is imported by app/uses_tests.py');
    // RECORD of the kept distribution lists only what is left.
    expect(p.rewrites.get('app-1.0.dist-info/RECORD')).toMatchObject({ rule: 'record-rewrite' });
    expect(p.rewrites.get('app-1.0.dist-info/RECORD')?.content.toString()).toBe(
      record('app/__init__.py', 'app/tests/__init__.py'),
    );
    const pipBytes = ['pip/__init__.py', 'pip-1.0.dist-info/METADATA', 'pip-1.0.dist-info/RECORD']
      .map((f) => Buffer.byteLength(TREE[f] ?? ''))
      .reduce((a, b) => a + b);
    expect(p.report.rules['remove-distribution']).toEqual({ bytes: pipBytes, files: 3, rewritten: 0 });
    expect(p.report.modules).toEqual(['app', 'lib']);
    expect(p.removeRoots).toEqual([
      'lib/__pycache__/__init__.cpython-310.pyc',
      'lib/__pycache__/gone.cpython-311.pyc',
      'lib/docs',
      'lib/tests',
      'pip',
      'pip-1.0.dist-info',
    ]);
  });

  it('empty-directory takes a directory the rules emptied', () => {
    const { 'lib/__pycache__/__init__.cpython-311.pyc': _fresh, ...tree } = TREE;
    const p = plan(tree);
    expect(p.removed.get('lib/__pycache__')).toBe('empty-directory');
  });

  it('switching a rule off in the profile leaves its paths', () => {
    const p = plan(TREE, parseProfile({ strip: { tests: false, docs: false, staleBytecode: false }, remove: [] }));
    expect([...p.removed.values()]).toEqual([]);
    expect(p.report.distributionsNotPresent).toEqual([]);
  });
});

describe('strip-tests', () => {
  it('keeps a test package imported from outside it even when a file inside imports the same module first', () => {
    const p = plan(TREE, defaultProfile, [
      ['app/tests/test_x.py', ['app.tests.helpers']],
      ['app/uses_tests.py', ['app.tests.helpers']],
    ]);
    expect(p.removed.has('app/tests')).toBe(false);
    expect(p.report.warnings).toContain('kept app/tests: the package app.tests is imported by app/uses_tests.py');
  });
});

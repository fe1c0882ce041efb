import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOnly, scanImports } from '../../../packages/optimizer/src/closure/python-imports.js';
import { PYTHON, run } from './wheels.js';

/** Python's own parser as the oracle: every import with its resolved module, line, and whether it is in a block. */
const ORACLE = `
import ast, json, os, sys
root = sys.argv[1]
out = {}
for d, dirs, fs in os.walk(root):
    dirs[:] = [x for x in dirs if x not in ('test', 'tests', 'idle_test', 'site-packages')]
    for f in fs:
        if not f.endswith('.py'):
            continue
        p = os.path.join(d, f)
        try:
            tree = ast.parse(open(p, 'rb').read())
        except (SyntaxError, ValueError):
            continue
        rel = os.path.relpath(p, root)
        pkg = os.path.dirname(rel).replace(os.sep, '.')
        top = {id(n) for n in tree.body}
        res = []
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                res += [[a.name, n.lineno, id(n) not in top] for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                parts = pkg.split('.') if pkg else []
                if n.level and n.level - 1 > len(parts):
                    continue
                base = (parts[:len(parts) - (n.level - 1)] if n.level else []) + ([n.module] if n.module else [])
                if base:
                    res.append(['.'.join(base), n.lineno, id(n) not in top])
        out[rel] = sorted(res)
print(json.dumps(out))
`;

describe('scanImports', () => {
  it("finds exactly what Python's ast finds in the standard library of the host (tests left out)", async () => {
    const { stdout: stdlib } = await run(PYTHON, ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']);
    const root = stdlib.trim();
    const { stdout } = await run(PYTHON, ['-c', ORACLE, root], { maxBuffer: 1 << 28 });
    const expected = JSON.parse(stdout) as Record<string, [string, number, boolean][]>;
    const files = Object.keys(expected);
    expect(files.length).toBeGreaterThan(400);
    const mismatches: string[] = [];
    for (const rel of files) {
      const pkg = path.dirname(rel) === '.' ? '' : path.dirname(rel).replaceAll('/', '.');
      const found = scanImports(await readFile(path.join(root, rel), 'utf8'), pkg)
        .map((i) => [i.module, i.line, i.conditional])
        .sort();
      const want = [...(expected[rel] ?? [])].sort();
      if (JSON.stringify(found) !== JSON.stringify(want)) mismatches.push(rel);
    }
    expect(mismatches).toEqual([]);
  }, 180_000);

  it('ignores strings and comments, follows continuation lines, resolves relative imports', () => {
    const source = [
      '"""Docstring',
      'import not_this',
      '"""', // 1-3
      "x = 'import nor_this'  # import nor_that", // 4
      'from .sibling import (a,',
      '    b)', // 5-6
      'import one, two.three as t', // 7
      'if DEBUG: import dbg; import dbg2', // 8
      'def f():',
      '    from .. import up', // 9-10
      'from \\',
      '  pkg.mod import name', // 11-12
      "s = r'\\'' ; import after_raw", // 13
      'from . import *', // 14
    ].join('\n');
    const found = scanImports(source, 'top.sub').map(
      (i) => `${i.line} ${i.module} [${i.names.join(',')}] ${i.conditional ? 'c' : 'u'}`,
    );
    expect(found).toEqual([
      '5 top.sub.sibling [a,b] u',
      '7 one [] u',
      '7 two.three [] u',
      '8 dbg [] c',
      '8 dbg2 [] c',
      '10 top [up] c',
      '11 pkg.mod [name] u',
      '13 after_raw [] u',
      '14 top.sub [] u',
    ]);
    expect(codeOnly(source)).toHaveLength(source.length);
  });
});

import { describe, expect, it } from 'vitest';
import { type Check } from '@4pass/builder';
import { explainChecks, type ExplainInput } from '../../../packages/builder/src/report/explain-checks.js';
import { KNOWN_FIXES, knownFix } from '../../../packages/builder/src/report/known-fixes.js';

const SITE = '/opt/venv/lib/python3.11/site-packages';
const fail = (id: string, message = `${id} over budget`): Check => ({
  id,
  status: 'fail',
  actual: 1,
  limit: 0,
  level: 'fail',
  message,
});

const input: ExplainInput = {
  layers: [{ createdBy: '' }, { createdBy: 'COPY /opt/venv /opt/venv # buildkit' }],
  contents: {
    python: [
      {
        name: 'botocore',
        version: '1.43.107',
        location: SITE,
        sizeBytes: 23_100_000,
        fileCount: 4000,
        layer: 1,
        topPaths: [{ path: 'botocore/data', sizeBytes: 21_000_000 }],
        importNames: ['botocore'],
      },
      {
        name: 'pandas',
        version: '2.2.0',
        location: SITE,
        sizeBytes: 14_200_000,
        fileCount: 900,
        layer: 1,
        topPaths: [{ path: 'pandas/tests', sizeBytes: 9_000_000 }],
        importNames: ['pandas'],
      },
      {
        name: 'pip',
        version: '26.2.1',
        location: SITE,
        sizeBytes: 9_000_000,
        fileCount: 900,
        layer: 1,
        topPaths: [{ path: 'pip/_vendor', sizeBytes: 6_000_000 }],
        importNames: ['pip'],
      },
      {
        name: 'setuptools',
        version: '84.0.0',
        location: SITE,
        sizeBytes: 4_000_000,
        fileCount: 900,
        layer: 1,
        topPaths: [],
        importNames: ['setuptools', 'pkg_resources'],
      },
    ],
    debian: [{ name: 'libc6', version: '2.36', sizeBytes: 12_000_000, sizeFrom: 'files', fileCount: 500, layer: 0 }],
    paths: [
      { layer: 0, path: '/var/lib/apt/lists', sizeBytes: 1_000_000 },
      { layer: 1, path: '/opt/venv', sizeBytes: 50_300_000 },
    ],
    botocoreServices: 380,
    sourcesWithoutBytecode: 1200,
  },
  importProfile: {
    totalMs: 900,
    moduleCount: 400,
    topLevel: [],
    slowest: [],
    byDistribution: [
      { distribution: 'botocore', ms: 300, modules: 90, entry: 'botocore.compat', entryCumulativeMs: 245 },
      { distribution: '(stdlib)', ms: 200, modules: 200, entry: 'logging', entryCumulativeMs: 27 },
      { distribution: 'boto3', ms: 20, modules: 40, entry: 'boto3', entryCumulativeMs: 540 },
      { distribution: 'setuptools', ms: 150, modules: 10, entry: 'pkg_resources', entryCumulativeMs: 160 },
    ],
  },
};

describe('explainChecks', () => {
  it('names the three largest contributors of a failing size budget and the rule that fixes each', () => {
    const [size] = explainChecks([fail('size')], input);
    expect(size?.details).toEqual([
      'why: largest:',
      '  1. botocore 1.43.107: 23.1 MB, of which botocore/data 21 MB (layer `COPY /opt/venv /opt/venv`) → botocore data for 380 services: set `optimizer.aws.services` to the services the code calls',
      '  2. pandas 2.2.0: 14.2 MB, of which pandas/tests 9 MB (layer `COPY /opt/venv /opt/venv`) → pandas/tests/ holds tests: the optimizer strips tests (`strip.tests`)',
      '  3. Debian libc6 2.36: 12 MB',
      '  also: pip 26.2.1: 9 MB, of which pip/_vendor 6 MB (layer `COPY /opt/venv /opt/venv`) → pip is a build tool, not needed at run time: optimizer `remove` (the default removes pip, setuptools, wheel, pygments)',
      '  also: setuptools 84.0.0: 4 MB (layer `COPY /opt/venv /opt/venv`) → setuptools is a build tool, not needed at run time: optimizer `remove` (the default removes pip, setuptools, wheel, pygments)',
      '  also: /var/lib/apt/lists: 1 MB → apt package lists: `rm -rf /var/lib/apt/lists/*` in the same RUN',
    ]);
  });

  it('ranks a path budget by what lies under the path', () => {
    const [check] = explainChecks([fail('pathSize:/opt/venv')], input);
    expect(check?.details?.slice(0, 4)).toEqual([
      'why: largest:',
      expect.stringMatching(/^ {2}1\. botocore /),
      expect.stringMatching(/^ {2}2\. pandas /),
      expect.stringMatching(/^ {2}3\. pip /),
    ]);
    expect(check?.details?.join('\n')).not.toContain('libc6');
  });

  it('names what grew for a failing growth budget, with its biggest path and layer', () => {
    const [growth] = explainChecks([fail('growth')], {
      ...input,
      diff: {
        packages: [
          {
            kind: 'python',
            name: 'pandas',
            change: 'added',
            versionBefore: null,
            versionAfter: '2.2.0',
            before: null,
            after: 14_200_000,
            delta: 14_200_000,
            layer: 'RUN pip install -r requirements.txt # buildkit',
            paths: [{ path: 'pandas/tests', before: null, after: 9_000_000, delta: 9_000_000 }],
          },
        ],
        growingPaths: [{ path: '/tmp/cache', before: null, after: 100_000, delta: 100_000, layer: null }],
      },
    });
    expect(growth?.details?.slice(0, 3)).toEqual([
      'why: grew most:',
      '  1. +14.2 MB: pandas 2.2.0 added, of which pandas/tests +9 MB (layer `RUN pip install -r requirements.txt`) → pandas/tests/ holds tests: the optimizer strips tests (`strip.tests`)',
      '  2. +100 kB: /tmp/cache',
    ]);
  });

  it('names the slowest imports of a failing start-up budget', () => {
    const [startup] = explainChecks([fail('startupMedian')], input);
    expect(startup?.details).toEqual([
      'why: largest:',
      '  1. import botocore.compat … 245 ms: botocore modules 300 ms of 900 ms of imports → 1200 .py files have no bytecode and compile at every start: byte-compile at build time (`python -m compileall --invalidation-mode unchecked-hash`)',
      '  2. import logging … 27 ms: (stdlib) modules 200 ms of 900 ms of imports',
      '  3. import pkg_resources … 160 ms: setuptools modules 150 ms of 900 ms of imports → pkg_resources scans every distribution at import: use importlib.metadata, and optimizer `remove` setuptools',
      '  also: import boto3 … 540 ms: boto3 modules 20 ms of 900 ms of imports → 1200 .py files have no bytecode and compile at every start: byte-compile at build time (`python -m compileall --invalidation-mode unchecked-hash`)',
    ]);
  });

  it('leaves passing checks, other checks and checks without facts alone; keeps existing details last', () => {
    const passing: Check = { ...fail('size'), status: 'pass' };
    const structure = fail('nonRoot');
    const warned: Check = { ...fail('size'), status: 'warn', details: ['existing'] };
    const out = explainChecks([passing, structure, warned, fail('startupP95')], { layers: [] });
    expect(out[0]).toBe(passing);
    expect(out[1]).toBe(structure);
    expect(out[2]).toBe(warned);
    expect(out[3]?.details).toBeUndefined();
    expect(explainChecks([warned], input)[0]?.details?.at(-1)).toBe('existing');
  });
});

describe('KNOWN_FIXES', () => {
  it('has unique ids and matches nothing it should not', () => {
    expect(new Set(KNOWN_FIXES.map((f) => f.id)).size).toBe(KNOWN_FIXES.length);
    expect(
      knownFix({ kind: 'python', name: 'botocore', sizeBytes: 1, topPaths: [] }, { botocoreServices: 8 }),
    ).toBeUndefined();
    expect(
      knownFix({
        kind: 'python',
        name: 'requests',
        sizeBytes: 1,
        topPaths: [{ path: 'requests/api.py', sizeBytes: 1 }],
      }),
    ).toBeUndefined();
    expect(knownFix({ kind: 'debian', name: 'libc6', sizeBytes: 1 })).toBeUndefined();
    expect(knownFix({ kind: 'debian', name: 'libpython3.11-dev', sizeBytes: 1 })?.id).toBe('build-tools-debian');
    expect(knownFix({ kind: 'debian', name: 'gcc-12', sizeBytes: 1 })?.id).toBe('build-tools-debian');
    expect(knownFix({ kind: 'path', path: '/root/.cache/pip', sizeBytes: 1 })?.id).toBe('pip-cache');
    expect(knownFix({ kind: 'path', path: '/usr/share/doc', sizeBytes: 1 })?.id).toBe('debian-docs');
    expect(
      knownFix({ kind: 'import', distribution: '(stdlib)', ms: 1, entry: 'json' }, { sourcesWithoutBytecode: 3 }),
    ).toBeUndefined();
  });
});

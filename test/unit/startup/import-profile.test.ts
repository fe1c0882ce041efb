import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  APPLICATION_OWNER,
  STDLIB_OWNER,
  moduleOwner,
  moduleRoot,
  parseImportTime,
  summarizeImports,
} from '../../../packages/builder/src/startup/import-profile.js';

const fixture = (name: string) => readFile(new URL(`../../fixtures/importtime/${name}`, import.meta.url), 'utf8');

const workerOwners = moduleOwner(
  new Map([
    ['boto3', 'boto3'],
    ['botocore', 'botocore'],
    ['s3transfer', 's3transfer'],
    ['urllib3', 'urllib3'],
    ['pydantic', 'pydantic'],
    ['pydantic_core', 'pydantic_core'],
    ['dateutil', 'python-dateutil'],
    ['jmespath', 'jmespath'],
  ]),
  new Set(['argparse', 'logging', 'runpy', 'site', 'shutil', 'json', 'email', 'http', 'encodings', 'os']),
);

describe('parseImportTime', () => {
  it('reads every importtime line of a real worker start and skips the traceback around them', async () => {
    const records = parseImportTime(await fixture('worker-stderr.txt'));
    expect(records).toHaveLength(474);
    expect(records[0]).toEqual({ module: '_io', selfUs: 564, cumulativeUs: 564, depth: 1 });
    expect(records.find((r) => r.module === 'boto3')).toEqual({
      module: 'boto3',
      selfUs: 838,
      cumulativeUs: 540494,
      depth: 0,
    });
    expect(records.find((r) => r.module === 'boto3.compat')?.depth).toBe(1);
    expect(records.find((r) => r.module === 's3transfer')?.depth).toBe(3);
    expect(records.some((r) => r.module.includes('Traceback') || r.module.includes('File'))).toBe(false);
  });

  it('tolerates CRLF, a log prefix and unrelated lines between importtime lines', () => {
    const text = [
      '2026-01-01T00:00:00Z import time: self [us] | cumulative | imported package',
      'import time:        12 |         12 |     child\r',
      'WARNING something unrelated | 3 | 4',
      '2026-01-01T00:00:00Z import time:       100 |        112 |   parent',
      'import time: garbage | 1 | x',
      '',
    ].join('\n');
    expect(parseImportTime(text)).toEqual([
      { module: 'child', selfUs: 12, cumulativeUs: 12, depth: 2 },
      { module: 'parent', selfUs: 100, cumulativeUs: 112, depth: 1 },
    ]);
  });

  it('gives nothing for output without importtime lines', () => {
    expect(parseImportTime('hello\nworld\n')).toEqual([]);
  });
});

describe('summarizeImports', () => {
  it("names the program's slowest imports and groups self time by distribution", async () => {
    const records = parseImportTime(await fixture('worker-stderr.txt'));
    const profile = summarizeImports(records, { owner: workerOwners, top: 5 });
    expect(profile.moduleCount).toBe(474);
    expect(profile.topLevel.map((m) => m.module)).toEqual([
      'boto3',
      'worker.config',
      'pydantic',
      'worker.loop',
      'argparse',
    ]);
    expect(profile.topLevel[0]).toMatchObject({ distribution: 'boto3', cumulativeMs: 540.5, selfMs: 0.8 });
    expect(profile.topLevel[1]?.distribution).toBe(APPLICATION_OWNER);
    expect(profile.slowest[0]?.module).toBe('boto3');
    // Self times add up to the whole: nothing is counted twice.
    const sum = profile.byDistribution.reduce((a, d) => a + d.ms, 0);
    const selfTotal = records.reduce((a, r) => a + r.selfUs, 0) / 1000;
    expect(sum).toBeCloseTo(selfTotal, 0);
    expect(profile.totalMs).toBeGreaterThan(800);
    const botocore = profile.byDistribution.find((d) => d.distribution === 'botocore');
    expect(botocore).toMatchObject({ entry: 'botocore.compat' });
    expect(botocore?.ms).toBeGreaterThan(100);
    const distributions = profile.byDistribution.filter((d) => !d.distribution.startsWith('('));
    expect(distributions.map((d) => d.distribution).slice(0, 2)).toEqual(['botocore', 'pydantic']);
    expect(profile.byDistribution.map((d) => d.distribution)).toContain(STDLIB_OWNER);
  });

  it('puts built-in and frozen modules in the standard library, the rest by the names it is given', async () => {
    const records = parseImportTime(await fixture('python311-json-email.txt'));
    const owner = moduleOwner(new Map(), new Set(['json', 'email', 're', 'encodings']));
    const profile = summarizeImports(records, { owner });
    expect(profile.topLevel.map((m) => m.module).sort()).toEqual(
      records
        .filter((r) => r.depth === 0)
        .map((r) => r.module)
        .sort(),
    );
    expect(moduleRoot('email.mime.text')).toBe('email');
    for (const builtin of ['_io', 'marshal', 'posix', 'zipimport', '_frozen_importlib_external'])
      expect(owner(builtin)).toBe(STDLIB_OWNER);
    expect(owner('json')).toBe(STDLIB_OWNER);
    expect(owner('mycode')).toBe(APPLICATION_OWNER);
    expect(profile.byDistribution.find((d) => d.distribution === STDLIB_OWNER)?.modules).toBeGreaterThan(20);
  });
});

import { describe, expect, it } from 'vitest';
import { type ContentsReport, type PythonDistribution } from '@4pass/builder';
import {
  contentsReportSchema,
  packageChangeSchema,
  pathGrowthSchema,
} from '../../../packages/builder/src/report/contents-report.js';
import { diffContents, type ContentsSide } from '../../../packages/builder/src/report/diff-contents.js';

const SITE = '/opt/venv/lib/python3.11/site-packages';
/** The venv's directories down to site-packages, each holding `sizeBytes` (all in layer 2). */
const venvDirs = (sizeBytes: number) =>
  ['/opt', '/opt/venv', '/opt/venv/lib', '/opt/venv/lib/python3.11', SITE].map((path) => ({
    layer: 2,
    path,
    sizeBytes,
  }));

function dist(
  name: string,
  version: string,
  sizeBytes: number,
  layer: number,
  topPaths: [string, number][] = [],
): PythonDistribution {
  return {
    name,
    version,
    location: SITE,
    sizeBytes,
    fileCount: 10,
    layer,
    topPaths: topPaths.map(([path, size]) => ({ path, sizeBytes: size })),
    importNames: [name.replace(/-/g, '_')],
  };
}

const layers = [
  { createdBy: '' },
  { createdBy: 'RUN apt-get install -y curl # buildkit' },
  { createdBy: 'COPY /opt/venv /opt/venv # buildkit' },
];

const before: ContentsSide = {
  layers,
  contents: {
    python: [
      dist('botocore', '1.43.107', 2_500_000, 2, [['botocore/data', 1_900_000]]),
      dist('six', '1.17.0', 32_000, 2),
      dist('Typing_Extensions', '4.16.0', 170_000, 2),
    ],
    debian: [{ name: 'zlib1g', version: '1:1.2.13', sizeBytes: 122_280, sizeFrom: 'files', fileCount: 2, layer: 0 }],
    paths: [...venvDirs(2_702_000), { layer: 0, path: '/usr', sizeBytes: 9_000_000 }],
    sourcesWithoutBytecode: 0,
  },
  importProfile: {
    totalMs: 800,
    moduleCount: 300,
    topLevel: [],
    slowest: [],
    byDistribution: [
      { distribution: 'botocore', ms: 250, modules: 90, entry: 'botocore.compat', entryCumulativeMs: 245 },
      { distribution: 'six', ms: 3, modules: 1, entry: 'six', entryCumulativeMs: 3 },
    ],
  },
};

const now: ContentsSide = {
  layers,
  contents: {
    python: [
      dist('tabulate', '0.9.0', 14_200_000, 2, [
        ['tabulate/tests', 9_000_000],
        ['tabulate/core.py', 4_000_000],
      ]),
      dist('botocore', '1.43.108', 2_600_000, 2, [['botocore/data', 2_000_000]]),
      dist('typing-extensions', '4.16.0', 170_000, 2),
    ],
    debian: [
      { name: 'zlib1g', version: '1:1.2.13', sizeBytes: 122_280, sizeFrom: 'files', fileCount: 2, layer: 0 },
      { name: 'curl', version: '7.88', sizeBytes: 500_000, sizeFrom: 'files', fileCount: 5, layer: 1 },
    ],
    paths: [
      ...venvDirs(16_970_000),
      { layer: 2, path: `${SITE}/tabulate`, sizeBytes: 14_100_000 },
      { layer: 2, path: `${SITE}/tabulate/tests`, sizeBytes: 9_000_000 },
      { layer: 0, path: '/usr', sizeBytes: 9_000_000 },
      { layer: 1, path: '/usr', sizeBytes: 500_000 },
      { layer: 1, path: '/usr/bin', sizeBytes: 500_000 },
    ],
    sourcesWithoutBytecode: 0,
  },
  importProfile: {
    totalMs: 950,
    moduleCount: 320,
    topLevel: [],
    slowest: [],
    byDistribution: [
      { distribution: 'botocore', ms: 255, modules: 90, entry: 'botocore.compat', entryCumulativeMs: 250 },
      { distribution: 'tabulate', ms: 110, modules: 12, entry: 'tabulate', entryCumulativeMs: 140 },
    ],
  },
};

describe('diffContents', () => {
  it('names added, changed and removed packages with size change, biggest paths and the layer that brought them', () => {
    const d = diffContents(now, before);
    expect(d?.packages.map((p) => [p.kind, p.name, p.change, p.delta])).toEqual([
      ['python', 'tabulate', 'added', 14_200_000],
      ['debian', 'curl', 'added', 500_000],
      ['python', 'botocore', 'changed', 100_000],
      ['python', 'six', 'removed', -32_000],
    ]);
    const tabulate = d?.packages[0];
    expect(tabulate).toMatchObject({
      versionBefore: null,
      versionAfter: '0.9.0',
      before: null,
      after: 14_200_000,
      layer: 'COPY /opt/venv /opt/venv # buildkit',
    });
    expect(tabulate?.paths[0]).toEqual({ path: 'tabulate/tests', before: null, after: 9_000_000, delta: 9_000_000 });
    expect(d?.packages[2]).toMatchObject({ versionBefore: '1.43.107', versionAfter: '1.43.108' });
    expect(d?.packages[2]?.paths).toEqual([
      { path: 'botocore/data', before: 1_900_000, after: 2_000_000, delta: 100_000 },
    ]);
    // Typing_Extensions and typing-extensions are one distribution (PEP 503 names), unchanged.
    expect(d?.packages.some((p) => p.name.toLowerCase().startsWith('typing'))).toBe(false);
    for (const p of d?.packages ?? []) expect(packageChangeSchema.safeParse(p).success).toBe(true);
  });

  it('lists the paths that grew, the deepest that explains each, with its layer', () => {
    const d = diffContents(now, before);
    expect(d?.growingPaths.map((g) => [g.path, g.delta, g.layer])).toEqual([
      // site-packages and its parents grew by 14.27 MB, ≥ 80% of it in tabulate: tabulate stands for them.
      [`${SITE}/tabulate`, 14_100_000, 'COPY /opt/venv /opt/venv # buildkit'],
      // tests are 64% of tabulate's growth: listed besides it, not instead.
      [`${SITE}/tabulate/tests`, 9_000_000, 'COPY /opt/venv /opt/venv # buildkit'],
      ['/usr/bin', 500_000, 'RUN apt-get install -y curl # buildkit'],
    ]);
    for (const g of d?.growingPaths ?? []) expect(pathGrowthSchema.safeParse(g).success).toBe(true);
  });

  it('compares import time per distribution', () => {
    expect(diffContents(now, before)?.imports).toEqual([
      { distribution: 'tabulate', beforeMs: null, afterMs: 110, deltaMs: 110 },
      { distribution: 'botocore', beforeMs: 250, afterMs: 255, deltaMs: 5 },
      { distribution: 'six', beforeMs: 3, afterMs: null, deltaMs: -3 },
    ]);
  });

  it('gives nothing without contents on both sides, and validates contents with the schema', () => {
    expect(diffContents({ layers }, before)).toBeUndefined();
    expect(contentsReportSchema.safeParse(now.contents as ContentsReport).success).toBe(true);
    expect(contentsReportSchema.safeParse({ ...now.contents, python: [{ name: 1 }] }).success).toBe(false);
  });
});

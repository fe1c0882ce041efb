import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  gateReportSchema,
  parseConfig,
  renderMarkdownReport,
  renderTextReport,
  type ContentsReport,
  type ImageContents,
  type StartupResult,
} from '@4pass/builder/internal';
import { buildGateReport, evaluateImage } from '../../../packages/builder/src/report/evaluate-image.js';
import { parseImportTime } from '../../../packages/builder/src/startup/import-profile.js';
import { factsFixture } from '../budgets/facts-fixture.js';

const fixture = (p: string) => readFileSync(new URL(`../../fixtures/${p}`, import.meta.url), 'utf8');
const worker = JSON.parse(fixture('reports/worker-contents.json')) as {
  contents: ContentsReport;
  pythonStdlib: string[];
};
const contents: ImageContents = {
  ...worker.contents,
  pythonStdlib: worker.pythonStdlib,
  elf: { files: 0, unowned: [] },
};

const config = parseConfig(
  {
    images: [
      {
        name: 'worker',
        dockerfile: 'D',
        context: '.',
        startup: { ready: { logPattern: 'ready' }, runs: 1 },
        budgets: { size: '100MB', startupMedian: '300ms', growth: '100kB' },
      },
    ],
  },
  'images.config.json',
).images[0]!;

const startup: StartupResult = {
  image: 'worker',
  ready: 'logPattern',
  runs: [{ run: 1, ok: true, readyMs: 504 }],
  ok: true,
  medianMs: 504,
  p95Ms: 504,
  minMs: 504,
  maxMs: 504,
  failures: [],
  settings: { runs: 1, timeoutMs: 30_000, network: false, readOnly: true },
  importTimes: parseImportTime(fixture('importtime/worker-stderr.txt')),
};

describe('evaluateImage with contents and an import profile', () => {
  const facts = factsFixture({ contents });
  const report = evaluateImage(facts, config, startup);

  it('reports the contents and the import profile, and the schema accepts them', () => {
    expect(report.contents?.python[0]?.name).toBe('pydantic_core');
    expect(report.contents?.debian.length).toBe(118);
    expect(report.startup?.importProfile?.topLevel[0]).toMatchObject({ module: 'boto3', distribution: 'boto3' });
    const byDist = report.startup?.importProfile?.byDistribution.map((d) => d.distribution) ?? [];
    expect(byDist.slice(0, 2)).toEqual(['(stdlib)', 'botocore']);
    expect(gateReportSchema.safeParse(JSON.parse(JSON.stringify(buildGateReport([report])))).success).toBe(true);
  });

  it('says why the size and start-up budgets fail', () => {
    const size = report.checks.find((c) => c.id === 'size');
    expect(size?.status).toBe('fail');
    expect(size?.details?.[0]).toBe('why: largest:');
    expect(size?.details?.[1]).toMatch(/^ {2}1\. Debian coreutils /);
    const slow = report.checks.find((c) => c.id === 'startupMedian');
    expect(slow?.details?.[1]).toMatch(/^ {2}1\. import .* \(stdlib\) modules/);
    expect(slow?.details?.[2]).toMatch(/^ {2}2\. import botocore\.compat … \d+ ms: botocore modules/);
  });

  it('compares distributions with a baseline report and names what grew', () => {
    const before = evaluateImage(
      factsFixture({ contents: { ...contents, python: contents.python.filter((d) => d.name !== 'urllib3') } }),
      config,
      startup,
    );
    const now = evaluateImage(facts, config, startup, before);
    expect(now.diff?.packages?.map((p) => [p.name, p.change, p.delta])).toEqual([['urllib3', 'added', 488_446]]);
    expect(now.diff?.packages?.[0]?.layer).toBe('RUN /bin/sh -c pip install boto3 # buildkit');
    // Same run, so the same import times: urllib3's modules were '(application)' before it was a distribution.
    const imports = new Map(now.diff?.imports?.map((i) => [i.distribution, i.deltaMs]));
    expect(imports.get('urllib3')).toBeGreaterThan(50);
    expect(imports.get('(application)')).toBe(-(imports.get('urllib3') ?? 0));
    expect(imports.get('botocore')).toBe(0);
  });

  it('leaves the new sections out for an image without contents or profile', () => {
    const plain = evaluateImage(factsFixture(), config, { ...startup, importTimes: undefined });
    expect('contents' in plain).toBe(false);
    expect(plain.startup && 'importProfile' in plain.startup).toBe(false);
  });

  it('renders the import profile collapsed in Markdown and as one terminal line, and the package changes', () => {
    const before = evaluateImage(
      factsFixture({ contents: { ...contents, python: contents.python.filter((d) => d.name !== 'urllib3') } }),
      config,
      startup,
    );
    const gate = buildGateReport([evaluateImage(facts, config, startup, before)]);
    const md = renderMarkdownReport(gate);
    expect(md).toMatch(/<details><summary>Start-up imports: \d+ ms in 474 modules \(one profiled run\)<\/summary>/);
    expect(md).toContain('| botocore | ');
    expect(md).toMatch(/\| added \| – \| 488\.4 kB \| \+488\.4 kB \| \*\*urllib3\*\* 2\.8\.0/);
    const text = renderTextReport(gate);
    expect(text).toMatch(/ {2}imports: \d+ ms in 474 modules \(\(stdlib\) \d+ ms, botocore \d+ ms/);
    expect(text).toMatch(/ {4}added +\+488\.4 kB {2}urllib3 2\.8\.0/);
    const plain = renderMarkdownReport(buildGateReport([evaluateImage(factsFixture(), config)]));
    expect(plain).not.toContain('Start-up imports');
  });
});

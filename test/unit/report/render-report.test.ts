import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MARKDOWN_MARKER,
  gateReportSchema,
  parseConfig,
  parseGateReport,
  renderJUnitReport,
  renderMarkdownReport,
  renderTextReport,
  type GateReport,
  type StartupResult,
} from '@4pass/builder/internal';
import { buildGateReport, evaluateImage } from '../../../packages/builder/src/report/evaluate-image.js';
import { xmlEscape } from '../../../packages/builder/src/report/render-junit.js';
import { factsFixture } from '../budgets/facts-fixture.js';

const FAKE_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const FAKE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const baseline = parseGateReport(
  JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/reports/baseline.json', import.meta.url)), 'utf8')),
);

const config = parseConfig(
  {
    images: [
      {
        name: 'api',
        dockerfile: 'D',
        context: '.',
        startup: { ready: { healthcheck: true }, runs: 3 },
        budgets: {
          size: '170MB',
          layers: { limit: 2, level: 'warn' },
          startupMedian: '1s',
          efficiency: 'off',
          pathSizes: { '/opt/venv': '1MB' },
          growth: '5%',
        },
        structure: { nonRoot: 'runtime', healthcheck: true, absentPaths: ['/opt/venv/lib/python*/site-packages/pip'] },
      },
      { name: 'worker', dockerfile: 'D', context: '.', budgets: { size: '200MB' }, structure: { nonRoot: true } },
    ],
  },
  'images.config.json',
);

const startup: StartupResult = {
  image: 'api',
  ready: 'healthcheck',
  runs: [1, 2, 3].map((run) => ({ run, ok: true, readyMs: 800 + run * 10 })),
  ok: true,
  medianMs: 820,
  p95Ms: 830,
  minMs: 810,
  maxMs: 830,
  failures: [],
  runtimeUid: 10001,
  settings: { runs: 3, timeoutMs: 60_000, network: false, readOnly: true, healthcheckIntervalMs: 100 },
};

function report(): GateReport {
  const api = evaluateImage(
    factsFixture({
      config: {
        user: 'root',
        env: ['PATH=/usr/bin', `AWS_ACCESS_KEY_ID=${FAKE_KEY_ID}`, `AWS_SECRET_ACCESS_KEY=${FAKE_SECRET}`],
        labels: {},
        healthcheck: ['CMD-SHELL', 'curl -f http://localhost:8000/health'],
      },
      steps: [
        'ADD rootfs /',
        'COPY app /app # buildkit',
        `RUN |1 AWS_SECRET_ACCESS_KEY=${FAKE_SECRET} /bin/sh -c pip install boto3 <x> & "y" # buildkit`,
      ],
    }),
    config.images[0]!,
    startup,
    baseline,
    { durations: { build: 41_000, inspect: 2_100 } },
  );
  const worker = evaluateImage(factsFixture({ sizeBytes: 120_000_000 }), config.images[1]!);
  return buildGateReport([worker, api], {
    errors: [{ name: 'broken', stage: 'build', message: 'RUN exit code 3 <oops>' }],
    baseline,
    now: new Date('2026-11-27T12:00:00Z'),
  });
}

describe('evaluateImage + buildGateReport', () => {
  const r = report();
  const api = r.images[1]!;

  it('holds the required fields and validates against the schema after a JSON round trip', () => {
    const json: unknown = JSON.parse(JSON.stringify(r));
    const parsed = gateReportSchema.safeParse(json);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(r.schemaVersion).toBe(2);
    expect(r.pass).toBe(false);
    expect(r.summary).toEqual({ images: 3, passed: 1, failed: 1, warnings: 1, errors: 1 });
    expect(api).toMatchObject({
      name: 'api',
      imageId: 'sha256:' + 'a'.repeat(64),
      tags: ['fixture:1'],
      sizeBytes: 182_300_000,
      compressedSizeBytes: 64_000_000,
      layerCount: 3,
    });
    expect(api.startup).toMatchObject({ medianMs: 820, p95Ms: 830, runtimeUid: 10001 });
    expect(api.startup?.runs).toHaveLength(3);
    expect(api.durations).toEqual({ build: 41_000, inspect: 2_100 });
    expect(r.images[0]?.startup).toBeNull();
  });

  it('evaluates every rule with its status', () => {
    expect(Object.fromEntries(api.checks.map((c) => [c.id, c.status]))).toEqual({
      startup: 'pass',
      size: 'fail',
      layers: 'warn',
      efficiency: 'skip',
      startupMedian: 'pass',
      'pathSize:/opt/venv': 'pass',
      growth: 'pass',
      nonRoot: 'pass',
      healthcheck: 'pass',
      'absentPath:/opt/venv/lib/python*/site-packages/pip': 'fail',
      noSecrets: 'fail',
    });
    expect(api.checks.find((c) => c.id === 'pathSize:/opt/venv')?.actual).toBe(81_100);
    expect(api.checks.find((c) => c.id === 'growth')?.message).toBe(
      'growth=+2.3 MB (+1.28%) <= budget=+5% (size 180 MB → 182.3 MB)',
    );
  });

  it('redacts secrets from layer step texts', () => {
    expect(api.layers[2]?.createdBy).toBe(
      'RUN |1 AWS_SECRET_ACCESS_KEY=*** /bin/sh -c pip install boto3 <x> & "y" # buildkit',
    );
  });

  it('diffs against the baseline by name', () => {
    expect(api.diff?.sizeBytes).toMatchObject({ before: 180_000_000, after: 182_300_000, delta: 2_300_000 });
    expect(r.images[0]?.diff).toBeUndefined();
  });
});

describe('renderers', () => {
  const r = report();
  const outputs = {
    text: renderTextReport(r),
    color: renderTextReport(r, { color: true }),
    markdown: renderMarkdownReport(r),
    junit: renderJUnitReport(r),
    json: JSON.stringify(r),
  };

  it('never contain a secret value', () => {
    for (const [kind, out] of Object.entries(outputs)) {
      expect(out, kind).not.toContain(FAKE_KEY_ID);
      expect(out, kind).not.toContain(FAKE_SECRET);
    }
  });

  it('terminal: summary rows, failures first with both numbers, the result line', () => {
    const t = outputs.text;

    expect(t).toMatch(/^IMAGE\s+RESULT\s+SIZE\s+COMPRESSED\s+LAYERS\s+STARTUP p50 \/ p95\s+EFFICIENCY\s+Δ SIZE\n/);
    expect(t).toMatch(/\napi\s+FAIL\s+182\.3 MB\s+64 MB\s+3\s+820 ms \/ 830 ms\s+\d+(\.\d)?%\s+\+2\.3 MB\n/);
    expect(t).toMatch(/\nworker\s+PASS\s+120 MB/);
    expect(t).toMatch(/\nbroken\s+ERROR/);
    expect(t).toMatch(/\n {2}✗ {2}size +size=182\.3 MB > budget=170 MB \(\+12\.3 MB, \+7\.2%\)\n/);
    expect(t).toMatch(/ {2}! +layers +layers=3 > budget=2 \(\+1, \+50%\)/);
    expect(t).toContain('ENV AWS_SECRET_ACCESS_KEY looks like a credential (an AWS secret access key; value hidden)');
    expect(t).toContain('vs baseline: size +2.3 MB (+1.28%)');
    expect(t.indexOf('✗  size')).toBeLessThan(t.indexOf('✓  startup'));
    expect(t.trimEnd().split('\n').at(-1)).toBe('Result: FAIL — 2 of 3 images failed');
    expect(t).not.toContain('\x1b[');
    expect(outputs.color).toContain('\x1b[31mFAIL\x1b[39m');
  });

  it('terminal: an interrupted run is INTERRUPTED, not failed; a real failure beside it still makes it FAIL', () => {
    const worker = evaluateImage(factsFixture({ sizeBytes: 120_000_000 }), config.images[1]!);
    const stopped = { name: 'api', stage: 'startup', message: 'interrupted during startup', interrupted: true };
    const only = buildGateReport([], { errors: [stopped] });
    expect(only.pass).toBe(false);
    expect(renderTextReport(only).trimEnd().split('\n').at(-1)).toBe(
      'Result: INTERRUPTED during startup — 1 of 1 image not finished',
    );
    expect(gateReportSchema.parse(JSON.parse(JSON.stringify(only))).errors[0]?.interrupted).toBe(true);
    const both = buildGateReport([worker], {
      errors: [stopped, { name: 'broken', stage: 'build', message: 'RUN exit code 3' }],
    });
    expect(renderTextReport(both).trimEnd().split('\n').at(-1)).toBe('Result: FAIL — 2 of 3 images failed');
  });

  it('terminal: budgets held but a push failed ends in PUSH FAILED with the reason, not PASS', () => {
    const worker = evaluateImage(factsFixture({ sizeBytes: 120_000_000 }), config.images[1]!);
    const failed = { status: 'failed' as const, tags: [], message: 'registry 127.0.0.1:5000 did not answer' };
    const report = buildGateReport([{ ...worker, push: failed }], {});
    expect(report.pass).toBe(true);
    expect(renderTextReport(report).trimEnd().split('\n').at(-1)).toBe(
      'Result: PUSH FAILED — 1 image within budget; worker: registry 127.0.0.1:5000 did not answer',
    );
  });

  it('markdown: marker, summary table, per-image checks with escaped cells', () => {
    const m = outputs.markdown;

    expect(m.startsWith(MARKDOWN_MARKER + '\n## ❌ Image budget: 2 of 3 images failed\n')).toBe(true);
    expect(m).toContain('| Image | Result | Size | Compressed | Layers | Startup p50 / p95 | Efficiency | Δ size |');
    expect(m).toMatch(
      /\| api \| ❌ \| 182\.3 MB \| 64 MB \| 3 \| 820 ms \/ 830 ms \| [\d.]+% \| \+2\.3 MB \(\+1\.28%\) \|/,
    );
    expect(m).toContain('| ❌ | `size` | 182.3 MB | 170 MB | size=182.3 MB &gt; budget=170 MB (+12.3 MB, +7.2%) |');
    expect(m).toContain('| ⏭️ | `efficiency` | 100% | – | efficiency: rule off |');
    expect(m).toContain('&lt;x&gt; & "y"');
    expect(m).toContain('**broken** could not be measured (build): RUN exit code 3 &lt;oops&gt;');
  });

  it('junit: one testcase per check, failures and skips, proper escaping', () => {
    const j = outputs.junit;
    expect(j.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="image-budget" tests="')).toBe(true);
    const api = r.images[1]!;
    const worker = r.images[0]!;
    const tests = api.checks.length + worker.checks.length + 1;
    const failures = api.summary.failed + worker.summary.failed + 1;
    expect(j).toContain(
      `<testsuites name="image-budget" tests="${tests}" failures="${failures}" errors="0" skipped="${api.summary.skipped + worker.summary.skipped}">`,
    );
    expect(j.match(/<testcase /g)).toHaveLength(tests);
    expect(j).toContain('<failure message="size=182.3 MB &gt; budget=170 MB (+12.3 MB, +7.2%)" type="size">');
    expect(j).toContain('<skipped message="efficiency: rule off"/>');
    expect(j).toContain('<system-out>WARNING: layers=3 &gt; budget=2 (+1, +50%)</system-out>');
    expect(j).toContain('<failure message="RUN exit code 3 &lt;oops&gt;" type="build">');
    expect(xmlEscape(`a<b>&"'\u0001c`)).toBe('a&lt;b&gt;&amp;&quot;&apos;c');
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig, type StartupResult } from '@4pass/builder/internal';
import {
  evaluateBudgets,
  evaluateGrowth,
  evaluateRule,
} from '../../../packages/builder/src/budgets/evaluate-budgets.js';

const budgetsOf = (budgets: unknown) =>
  parseConfig({ images: [{ name: 'x', dockerfile: 'D', context: '.', budgets }] }, 'test.json').images[0]!.budgets;

const measured = {
  sizeBytes: 182_300_000,
  compressedSizeBytes: 64_000_000,
  layerCount: 14,
  wastedBytes: 3_000_000,
  efficiency: 0.853,
  paths: { '/opt/venv': 120_000_000 },
};

const startup = (over: Partial<StartupResult> = {}): StartupResult => ({
  image: 'x',
  ready: 'healthcheck',
  runs: [1, 2, 3].map((run) => ({ run, ok: true, readyMs: 700 + run * 10 })),
  ok: true,
  medianMs: 720,
  p95Ms: 730,
  failures: [],
  settings: { runs: 3, timeoutMs: 60_000, network: false, readOnly: true },
  ...over,
});

describe('evaluateRule', () => {
  it('fails with both numbers and the excess, like dive', () => {
    const c = evaluateRule('size', { enabled: true, limit: 170_000_000, level: 'fail' }, 182_300_000, 'bytes');
    expect(c).toMatchObject({ id: 'size', status: 'fail', actual: 182_300_000, limit: 170_000_000, unit: 'bytes' });
    expect(c.message).toBe('size=182.3 MB > budget=170 MB (+12.3 MB, +7.2%)');
  });

  it('passes with both numbers', () => {
    const c = evaluateRule('size', { enabled: true, limit: 200_000_000, level: 'fail' }, 182_300_000, 'bytes');
    expect(c.status).toBe('pass');
    expect(c.message).toBe('size=182.3 MB <= budget=200 MB');
  });

  it('min rules (efficiency) fail below the threshold', () => {
    const c = evaluateRule('efficiency', { enabled: true, limit: 0.9, level: 'fail' }, 0.853, 'ratio', 'min');
    expect(c.status).toBe('fail');
    expect(c.message).toBe('efficiency=85.3% < threshold=90% (-4.7 pp)');
  });

  it('a warn-level rule warns instead of failing', () => {
    expect(evaluateRule('layers', { enabled: true, limit: 12, level: 'warn' }, 14, 'count')).toMatchObject({
      status: 'warn',
      message: 'layers=14 > budget=12 (+2, +16.7%)',
    });
  });

  it('an explicitly-off rule gives skip', () => {
    expect(evaluateRule('size', { enabled: false }, 1, 'bytes')).toMatchObject({
      status: 'skip',
      message: 'size: rule off',
    });
  });
});

describe('evaluateBudgets', () => {
  it('evaluates only configured rules, in a fixed order, with units', () => {
    const checks = evaluateBudgets(
      measured,
      budgetsOf({
        size: '170MB',
        efficiency: '90%',
        layers: { limit: 20, level: 'warn' },
        compressedSize: 'off',
        pathSizes: { '/opt/venv': '100MB' },
      }),
    );
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['size', 'fail'],
      ['compressedSize', 'skip'],
      ['layers', 'pass'],
      ['efficiency', 'fail'],
      ['pathSize:/opt/venv', 'fail'],
    ]);
    expect(checks[4]?.message).toBe('pathSize:/opt/venv=120 MB > budget=100 MB (+20 MB, +20%)');
  });

  it('startup rules: skip when not measured, numbers when measured, fail when runs never became ready', () => {
    const b = budgetsOf({ startupMedian: '1.5s', startupP95: '700ms' });
    expect(evaluateBudgets(measured, b).map((c) => [c.id, c.status, c.message])).toEqual([
      ['startupMedian', 'skip', 'startupMedian: not measured (startup not run)'],
      ['startupP95', 'skip', 'startupP95: not measured (startup not run)'],
    ]);
    const ok = evaluateBudgets({ ...measured, startup: startup() }, b);
    expect(ok.map((c) => [c.status, c.message])).toEqual([
      ['pass', 'startupMedian=720 ms <= budget=1.5 s'],
      ['fail', 'startupP95=730 ms > budget=700 ms (+30 ms, +4.3%)'],
    ]);
    const failed = startup({
      ok: false,
      runs: [{ run: 1, ok: false, error: 'not ready within 2 s' }],
      failures: [{ run: 1, reason: 'not ready within 2 s', logTail: [] }],
      medianMs: undefined,
      p95Ms: undefined,
    });
    const bad = evaluateBudgets({ ...measured, startup: failed }, b);
    expect(bad[0]).toMatchObject({ status: 'fail', actual: null, limit: 1500 });
    expect(bad[0]?.message).toMatch(/1 of 1 runs never became ready \(not ready within 2 s\); budget=1.5 s/);
  });

  it('growth: percent or bytes against the baseline; skip without one', () => {
    const rule = budgetsOf({ growth: '5%' }).growth!;
    expect(evaluateGrowth(rule, measured)).toMatchObject({
      status: 'skip',
      message: 'growth: no baseline for this image',
    });
    const grew = evaluateGrowth(rule, measured, { sizeBytes: 170_000_000, compressedSizeBytes: 60_000_000 });
    expect(grew.status).toBe('fail');
    expect(grew.actual).toBeCloseTo(7.235, 2);
    expect(grew.message).toBe('growth=+12.3 MB (+7.24%) > budget=+5% (size 170 MB → 182.3 MB)');
    const bytesRule = budgetsOf({ growth: { limit: '20MB', level: 'warn', of: 'compressedSize' } }).growth!;
    expect(evaluateGrowth(bytesRule, measured, { sizeBytes: 1, compressedSizeBytes: 40_000_000 })).toMatchObject({
      status: 'warn',
      actual: 24_000_000,
      message: 'growth=+24 MB (+60%) > budget=+20 MB (compressed size 40 MB → 64 MB)',
    });
    expect(evaluateGrowth(rule, measured, { sizeBytes: 182_000_000, compressedSizeBytes: 1 }).status).toBe('pass');
  });
});

import type { Budgets } from '../config/config-types.js';
import type { GrowthRule, Rule } from '../config/rule-schema.js';
import { formatBytes, formatBytesDelta, formatDuration, formatRatio } from '../units/format-units.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { Check, CheckUnit } from './check.js';

/** What the budget rules are evaluated against (a subset of ImageFacts plus startup and baseline). */
export interface Measurements {
  sizeBytes: number;
  compressedSizeBytes: number;
  layerCount: number;
  wastedBytes: number;
  efficiency: number;
  paths: Readonly<Record<string, number>>;
  /** Undefined when startup was not measured: startup rules give `skip`. */
  startup?: StartupResult;
  /** Sizes of the same image in the baseline report: growth rule input. */
  baseline?: { sizeBytes: number; compressedSizeBytes: number };
}

/** Formats a value of a unit for messages: `182.3 MB`, `1.52 s`, `85.3%`, `14`. */
export function formatValue(value: number, unit: CheckUnit | undefined): string {
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'ms':
      return formatDuration(value);
    case 'ratio':
      return formatRatio(value);
    case 'percent':
      return `${+value.toFixed(2)}%`;
    default:
      return String(value);
  }
}

function formatDelta(delta: number, unit: CheckUnit | undefined): string {
  switch (unit) {
    case 'bytes':
      return formatBytesDelta(delta);
    case 'ratio':
      return `${delta > 0 ? '+' : ''}${+(delta * 100).toFixed(1)} pp`;
    default:
      return `${delta > 0 ? '+' : ''}${formatValue(delta, unit)}`;
  }
}

/**
 * Evaluates one numeric rule. `direction` `max`: violated when actual > limit; `min`: when actual < limit.
 * Messages carry both numbers and the excess: `size=182.3 MB > budget=170 MB (+12.3 MB, +7.2%)`.
 */
export function evaluateRule(
  id: string,
  rule: Rule,
  actual: number | undefined,
  unit: CheckUnit,
  direction: 'max' | 'min' = 'max',
  notMeasured = 'not measured',
): Check {
  if (!rule.enabled)
    return { id, status: 'skip', actual: actual ?? null, limit: null, unit, level: 'fail', message: `${id}: rule off` };
  const { limit, level } = rule;
  if (actual === undefined)
    return { id, status: 'skip', actual: null, limit, unit, level, message: `${id}: ${notMeasured}` };
  const violated = direction === 'max' ? actual > limit : actual < limit;
  const word = direction === 'max' ? 'budget' : 'threshold';
  const op = violated ? (direction === 'max' ? '>' : '<') : direction === 'max' ? '<=' : '>=';
  let message = `${id}=${formatValue(actual, unit)} ${op} ${word}=${formatValue(limit, unit)}`;
  if (violated) {
    const delta = actual - limit;
    const pct =
      limit !== 0 && unit !== 'ratio' ? `, ${delta > 0 ? '+' : ''}${+((delta / limit) * 100).toFixed(1)}%` : '';
    message += ` (${formatDelta(delta, unit)}${pct})`;
  }
  return { id, status: violated ? level : 'pass', actual, limit, unit, level, message };
}

/** Growth against the baseline: bytes or percent of the baseline size. */
export function evaluateGrowth(
  rule: GrowthRule,
  now: { sizeBytes: number; compressedSizeBytes: number },
  baseline?: { sizeBytes: number; compressedSizeBytes: number },
): Check {
  const id = 'growth';
  if (!rule.enabled)
    return { id, status: 'skip', actual: null, limit: null, level: 'fail', message: 'growth: rule off' };
  const unit: CheckUnit = rule.unit;
  if (!baseline)
    return {
      id,
      status: 'skip',
      actual: null,
      limit: rule.limit,
      unit,
      level: rule.level,
      message: 'growth: no baseline for this image',
    };
  const key = rule.of === 'size' ? 'sizeBytes' : 'compressedSizeBytes';
  const before = baseline[key];
  const after = now[key];
  const delta = after - before;
  const pct = before > 0 ? (delta / before) * 100 : delta > 0 ? Infinity : 0;
  const actual = rule.unit === 'bytes' ? delta : pct;
  const violated = actual > rule.limit;
  const what = rule.of === 'size' ? 'size' : 'compressed size';
  const pctText = Number.isFinite(pct) ? `${pct > 0 ? '+' : ''}${+pct.toFixed(2)}%` : 'new';
  const limitText = rule.unit === 'bytes' ? formatBytesDelta(rule.limit) : `+${rule.limit}%`;
  const message = `growth=${formatBytesDelta(delta)} (${pctText}) ${violated ? '>' : '<='} budget=${limitText} (${what} ${formatBytes(before)} → ${formatBytes(after)})`;
  return {
    id,
    status: violated ? rule.level : 'pass',
    actual: Number.isFinite(actual) ? +actual.toFixed(rule.unit === 'bytes' ? 0 : 3) : null,
    limit: rule.limit,
    unit,
    level: rule.level,
    message,
  };
}

/**
 * Evaluates every configured budget, in a fixed order. Rules not configured produce no check; rules switched off give
 * `skip`; startup rules give `skip` when startup was not measured, and `fail` (at their level) when no run became ready.
 */
export function evaluateBudgets(m: Measurements, budgets: Budgets): Check[] {
  const checks: Check[] = [];
  const add = (
    id: string,
    rule: Rule | undefined,
    actual: number | undefined,
    unit: CheckUnit,
    direction: 'max' | 'min' = 'max',
    notMeasured?: string,
  ) => {
    if (rule) checks.push(evaluateRule(id, rule, actual, unit, direction, notMeasured));
  };
  add('size', budgets.size, m.sizeBytes, 'bytes');
  add('compressedSize', budgets.compressedSize, m.compressedSizeBytes, 'bytes');
  add('layers', budgets.layers, m.layerCount, 'count');
  add('wastedBytes', budgets.wastedBytes, m.wastedBytes, 'bytes');
  add('efficiency', budgets.efficiency, m.efficiency, 'ratio', 'min');
  for (const [id, field] of [
    ['startupMedian', 'medianMs'],
    ['startupP95', 'p95Ms'],
  ] as const) {
    const rule = budgets[id];
    if (!rule) continue;
    if (m.startup && !m.startup.ok && rule.enabled) {
      const failed = m.startup.runs.filter((r) => !r.ok).length;
      checks.push({
        id,
        status: rule.level,
        actual: m.startup[field] ?? null,
        limit: rule.limit,
        unit: 'ms',
        level: rule.level,
        message: `${id}: ${failed} of ${m.startup.runs.length} runs never became ready (${m.startup.failures[0]?.reason ?? 'failed'}); budget=${formatDuration(rule.limit)}`,
      });
    } else add(id, rule, m.startup?.[field], 'ms', 'max', 'not measured (startup not run)');
  }
  for (const [path, rule] of Object.entries(budgets.pathSizes)) add(`pathSize:${path}`, rule, m.paths[path], 'bytes');
  if (budgets.growth) checks.push(evaluateGrowth(budgets.growth, m, m.baseline));
  return checks;
}

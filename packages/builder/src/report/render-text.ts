import type { Check, CheckStatus } from '../budgets/check.js';
import { formatBytes, formatBytesDelta, formatDuration, formatRatio } from '../units/format-units.js';
import { importsText, packagesText } from './render-why.js';
import type { GateReport, ImageDiff, ImageReport } from './gate-report.js';

export interface RenderTextOptions {
  /** ANSI colours (the CLI passes `process.stdout.isTTY`). Default false. */
  color?: boolean;
  /** Also list passing and skipped checks. Default true. */
  verbose?: boolean;
}

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };
const ANSI: Record<CheckStatus | 'bold' | 'dim', [string, string]> = {
  pass: ['\x1b[32m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  fail: ['\x1b[31m', '\x1b[39m'],
  skip: ['\x1b[90m', '\x1b[39m'],
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
};

/** Aligns rows of cells into columns separated by two spaces (cells may contain ANSI codes). */
export function alignColumns(rows: string[][]): string[] {
  // eslint-disable-next-line no-control-regex -- ANSI colour codes start with ESC
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c))));
  return rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visible(c))))
      .join('  ')
      .trimEnd(),
  );
}

/** Startup cell: `812 ms / 950 ms`, `FAILED`, or `-`. */
export function startupCell(image: ImageReport): string {
  const s = image.startup;
  if (!s) return '-';
  if (!s.ok) return 'FAILED';
  return `${formatDuration(s.medianMs ?? 0)} / ${formatDuration(s.p95Ms ?? 0)}`;
}

function imageStatus(image: ImageReport): CheckStatus {
  return !image.pass ? 'fail' : image.summary.warned > 0 ? 'warn' : 'pass';
}

const STATUS_WORD: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/**
 * The terminal view: one summary row per image, then each image's checks (what passed, what failed and by how much),
 * the baseline diff when present, and the overall result. Pure; returns the text and never throws.
 */
export function renderTextReport(report: GateReport, options: RenderTextOptions = {}): string {
  const paint = painter(options.color ?? false);
  const verbose = options.verbose ?? true;
  const lines = summaryTable(report, paint);
  for (const image of report.images) {
    lines.push('', imageHeading(image, paint), ...checkLines(image, verbose, paint));
    if (image.diff) lines.push(...diffLines(image.diff, paint));
    lines.push(...importsText(image).map((l) => paint('dim', l)));
  }
  for (const e of report.errors) lines.push('', paint('fail', `${e.name} — ERROR in ${e.stage}: ${e.message}`));
  lines.push('', resultLine(report, paint));
  return lines.join('\n') + '\n';
}

type Paint = (kind: keyof typeof ANSI, s: string) => string;

function painter(color: boolean): Paint {
  return (kind, s) => (color ? `${ANSI[kind][0]}${s}${ANSI[kind][1]}` : s);
}

function summaryTable(report: GateReport, paint: Paint): string[] {
  const header = ['IMAGE', 'RESULT', 'SIZE', 'COMPRESSED', 'LAYERS', 'STARTUP p50 / p95', 'EFFICIENCY', 'Δ SIZE'];
  const rows = report.images.map((i) => {
    const st = imageStatus(i);
    return [
      i.name,
      paint(st, STATUS_WORD[st]),
      formatBytes(i.sizeBytes),
      formatBytes(i.compressedSizeBytes),
      String(i.layerCount),
      startupCell(i),
      formatRatio(i.waste.efficiency),
      i.diff ? `${formatBytesDelta(i.diff.sizeBytes.delta)}` : '-',
    ];
  });
  for (const e of report.errors) rows.push([e.name, paint('fail', 'ERROR'), '-', '-', '-', '-', '-', '-']);
  return alignColumns([header.map((h) => paint('bold', h)), ...rows]);
}

function imageHeading(image: ImageReport, paint: Paint): string {
  const s = image.summary;
  return (
    paint('bold', `${image.name} — ${STATUS_WORD[imageStatus(image)]}`) +
    paint(
      'dim',
      ` (${s.passed} passed, ${s.failed} failed, ${plural(s.warned, 'warning')}, ${s.skipped} skipped) ${image.ref}`,
    ) +
    (image.engine ? paint('dim', `\n  on ${image.engine}${stageTimes(image.durations)}`) : '') +
    (image.build || image.reused ? paint('dim', `\n  ${reuseLine(image)}`) : '')
  );
}

/** `build: 8 stages cached, rebuilt compile-app 0.4 s, context 1.2 kB sent · reused: inspect, startup, smoke` */
export function reuseLine(image: Pick<ImageReport, 'build' | 'reused'>): string {
  const parts: string[] = [];
  if (image.build) {
    const { stages } = image.build;
    const rebuilt = stages.filter((s) => !s.cached).map((s) => `${s.stage} ${(s.durationMs / 1000).toFixed(1)} s`);
    const context = image.build.context ? `, context ${formatBytes(image.build.context.bytesSent)} sent` : '';
    const cached = stages.length - rebuilt.length;
    parts.push(
      `build: ${cached} ${cached === 1 ? 'stage' : 'stages'} cached${rebuilt.length ? `, rebuilt ${rebuilt.join(', ')}` : ''}${context}`,
    );
  }
  if (image.reused?.length) parts.push(`reused: ${image.reused.join(', ')}`);
  return parts.join(' · ');
}

/** `: build 41.0 s, inspect 2.1 s, startup 5.2 s` */
function stageTimes(durations: ImageReport['durations']): string {
  const parts = Object.entries(durations ?? {}).map(([stage, ms]) => `${stage} ${(ms / 1000).toFixed(1)} s`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

/** Checks, failures first (only failures and warnings unless `verbose`), with the details of failed ones. */
function checkLines(image: ImageReport, verbose: boolean, paint: Paint): string[] {
  const shown = verbose ? image.checks : image.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  const order: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2, skip: 3 };
  const sorted = [...shown].sort((a, b) => order[a.status] - order[b.status]);
  const rowsOut = alignColumns(
    sorted.map((c: Check) => [
      '  ' + paint(c.status, SYMBOL[c.status]),
      c.id,
      paint(c.status === 'skip' ? 'skip' : c.status === 'pass' ? 'dim' : c.status, c.message),
    ]),
  );
  const lines: string[] = [];
  sorted.forEach((c, i) => {
    lines.push(rowsOut[i] as string);
    if ((c.status === 'fail' || c.status === 'warn') && c.details && c.details.length > 1) {
      for (const d of c.details.slice(0, 12)) lines.push(paint('dim', `       ${d}`));
      if (c.details.length > 12) lines.push(paint('dim', `       … ${c.details.length - 12} more`));
    }
  });
  return lines;
}

/** The baseline comparison: totals, the five biggest layer changes, and every path that changed. */
function diffLines(d: ImageDiff, paint: Paint): string[] {
  const pct =
    d.sizeBytes.percent === null ? '' : ` (${d.sizeBytes.percent > 0 ? '+' : ''}${+d.sizeBytes.percent.toFixed(2)}%)`;
  const lines = [
    `  vs baseline: size ${formatBytesDelta(d.sizeBytes.delta)}${pct}, compressed ${formatBytesDelta(d.compressedSizeBytes.delta)}, layers ${d.layerCount.before} → ${d.layerCount.after}`,
  ];
  const changed = d.layers
    .filter((l) => l.change !== 'unchanged')
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
  for (const l of changed.slice(0, 5))
    lines.push(
      paint('dim', `    ${l.change.padEnd(8)} ${formatBytesDelta(l.delta).padStart(10)}  ${truncate(l.createdBy, 90)}`),
    );
  for (const p of d.paths.filter((p) => p.delta !== 0))
    lines.push(paint('dim', `    path     ${formatBytesDelta(p.delta).padStart(10)}  ${p.path}`));
  lines.push(...packagesText(d).map((l) => paint('dim', l)));
  return lines;
}

function resultLine(report: GateReport, paint: Paint): string {
  const { images, warnings } = report.summary;
  const s = images === 1 ? '' : 's';
  const pushFailed = report.images.filter((i) => i.push?.status === 'failed');
  // The budgets held but the images did not all reach the registry: that is no PASS for whoever reads the last line.
  if (report.pass && pushFailed.length) {
    const which = pushFailed.map((i) => `${i.name}: ${i.push?.message ?? 'failed'}`).join('; ');
    return paint('fail', `Result: PUSH FAILED — ${images} image${s} within budget; ${which}`);
  }
  if (report.pass) {
    return paint(
      'pass',
      `Result: PASS — ${images} image${s} within budget${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`,
    );
  }
  const notPassed = report.summary.failed + report.summary.errors;
  const interrupted = report.errors.filter((e) => e.interrupted);
  // An interrupted image did not fail: it was stopped (the CLI says where and exits 130 / 143).
  if (interrupted.length && interrupted.length === notPassed) {
    const stages = [...new Set(interrupted.map((e) => e.stage))].join(', ');
    return paint('fail', `Result: INTERRUPTED during ${stages} — ${notPassed} of ${images} image${s} not finished`);
  }
  return paint('fail', `Result: FAIL — ${notPassed} of ${images} image${s} failed`);
}

export function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= n ? one : one.slice(0, n - 1) + '…';
}

/** `1 warning`, `2 warnings`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

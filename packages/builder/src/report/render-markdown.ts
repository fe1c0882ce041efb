import type { CheckStatus } from '../budgets/check.js';
import { formatValue } from '../budgets/evaluate-budgets.js';
import { formatBytes, formatBytesDelta, formatDuration, formatRatio } from '../units/format-units.js';
import { importsMarkdown, packagesMarkdown } from './render-why.js';
import type { GateReport, ImageDiff, ImageReport, PushReport } from './gate-report.js';
import { plural, startupCell, truncate } from './render-text.js';

/** Marker at the top of the Markdown, so a CI step can find and update its own PR comment. */
export const MARKDOWN_MARKER = '<!-- 4pass-image-budget -->';

const ICON: Record<CheckStatus, string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️' };

/** Escapes a table cell: pipes, newlines, and HTML-significant characters. */
export function mdCell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, '<br>');
}

function icon(image: ImageReport): string {
  return !image.pass ? ICON.fail : image.summary.warned > 0 ? ICON.warn : ICON.pass;
}

function value(v: number | string | null, unit: Parameters<typeof formatValue>[1]): string {
  if (v === null) return '–';
  return typeof v === 'number' ? formatValue(v, unit) : v;
}

/**
 * Markdown for `$GITHUB_STEP_SUMMARY` and PR comments: a summary table, then per image its checks, the baseline diff,
 * the layers and the biggest waste in collapsible sections. Pure; returns the text and never throws.
 */
export function renderMarkdownReport(report: GateReport): string {
  const out: string[] = [MARKDOWN_MARKER, ...summaryTable(report)];
  for (const e of report.errors)
    out.push('', `**${mdCell(e.name)}** could not be measured (${mdCell(e.stage)}): ${mdCell(e.message)}`);
  for (const i of report.images) {
    out.push(
      '',
      `### ${icon(i)} ${mdCell(i.name)}`,
      '',
      `\`${mdCell(i.ref)}\` · ${mdCell(i.imageId.slice(0, 19))} · ${i.summary.passed} passed, ${i.summary.failed} failed, ${plural(i.summary.warned, 'warning')}, ${i.summary.skipped} skipped`,
      '',
      ...checksTable(i),
      ...(i.diff ? diffSection(i.diff) : []),
      ...importsMarkdown(i),
      ...layersSection(i),
      ...wasteSection(i),
      ...(i.push ? pushSection(i.push) : []),
    );
  }
  return out.join('\n') + '\n';
}

/** Which tags the registry holds for the image after the push, or why the push failed or did not happen. */
function pushSection(push: PushReport): string[] {
  const head =
    push.status === 'pushed'
      ? `**Push** to \`${mdCell(push.repository ?? '')}\`:`
      : push.status === 'skipped'
        ? `**Push** skipped: ${mdCell(push.message ?? '')}`
        : `**Push** ${push.interrupted ? 'interrupted' : 'failed'}: ${mdCell(push.message ?? '')}`;
  const tags = push.tags.map((t) => `- \`${mdCell(t.tag)}\` → \`${mdCell(t.digest)}\` (${t.via})`);
  return [
    '',
    head,
    ...(tags.length ? ['', ...tags] : push.status === 'failed' ? ['', 'No tag reached the registry.'] : []),
  ];
}

/** The headline and one row per image (and per image that could not be measured). */
function summaryTable(report: GateReport): string[] {
  const failed = report.summary.failed + report.summary.errors;
  const out = [
    report.pass
      ? `## ${ICON.pass} Image budget: ${report.summary.images} image${report.summary.images === 1 ? '' : 's'} within budget${report.summary.warnings ? ` (${report.summary.warnings} warning${report.summary.warnings === 1 ? '' : 's'})` : ''}`
      : `## ${ICON.fail} Image budget: ${failed} of ${report.summary.images} image${report.summary.images === 1 ? '' : 's'} failed`,
    '',
    '| Image | Result | Size | Compressed | Layers | Startup p50 / p95 | Efficiency | Δ size |',
    '|---|:-:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const i of report.images) {
    out.push(
      `| ${mdCell(i.name)} | ${icon(i)} | ${formatBytes(i.sizeBytes)} | ${formatBytes(i.compressedSizeBytes)} | ${i.layerCount} | ${startupCell(i)} | ${formatRatio(i.waste.efficiency)} | ${sizeDeltaCell(i.diff)} |`,
    );
  }
  for (const e of report.errors) out.push(`| ${mdCell(e.name)} | ${ICON.fail} | – | – | – | – | – | – |`);
  return out;
}

function sizeDeltaCell(diff: ImageDiff | undefined): string {
  if (!diff) return '–';
  const { delta, percent } = diff.sizeBytes;
  return `${formatBytesDelta(delta)}${percent !== null ? ` (${percent > 0 ? '+' : ''}${+percent.toFixed(2)}%)` : ''}`;
}

/** Checks, failures first, then the details of failed and warned checks in collapsible blocks. */
function checksTable(i: ImageReport): string[] {
  const out = ['| | Check | Actual | Budget | Details |', '|:-:|---|--:|--:|---|'];
  const order: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2, skip: 3 };
  for (const c of [...i.checks].sort((a, b) => order[a.status] - order[b.status])) {
    out.push(
      `| ${ICON[c.status]} | \`${mdCell(c.id)}\` | ${mdCell(value(c.actual, c.unit))} | ${mdCell(value(c.limit, c.unit))} | ${mdCell(c.message)} |`,
    );
  }
  const withDetails = i.checks.filter((c) => (c.status === 'fail' || c.status === 'warn') && c.details?.length);
  for (const c of withDetails) {
    out.push(
      '',
      `<details><summary>${mdCell(c.id)}: details</summary>`,
      '',
      '```',
      ...(c.details ?? []).slice(0, 40).map((d) => d.replace(/```/g, "'''")),
      '```',
      '',
      '</details>',
    );
  }
  return out;
}

function diffSection(d: ImageDiff): string[] {
  const out = [
    '',
    `<details><summary>Compared with the baseline: size ${formatBytesDelta(d.sizeBytes.delta)}, compressed ${formatBytesDelta(d.compressedSizeBytes.delta)}</summary>`,
    '',
    '| Change | Before | After | Δ | Layer (Dockerfile step) |',
    '|---|--:|--:|--:|---|',
  ];
  for (const l of d.layers.filter((l) => l.change !== 'unchanged')) {
    out.push(
      `| ${l.change} | ${bytesOrDash(l.before)} | ${bytesOrDash(l.after)} | ${formatBytesDelta(l.delta)} | \`${mdCell(truncate(l.createdBy, 100))}\` |`,
    );
  }
  for (const p of d.paths) {
    out.push(
      `| path | ${bytesOrDash(p.before)} | ${bytesOrDash(p.after)} | ${formatBytesDelta(p.delta)} | \`${mdCell(p.path)}\` |`,
    );
  }
  out.push(...packagesMarkdown(d));
  if (d.startupMedianMs.delta !== null)
    out.push(
      `| startup p50 | ${formatDuration(d.startupMedianMs.before ?? 0)} | ${formatDuration(d.startupMedianMs.after ?? 0)} | ${d.startupMedianMs.delta > 0 ? '+' : ''}${formatDuration(d.startupMedianMs.delta)} | |`,
    );
  out.push('', '</details>');
  return out;
}

function bytesOrDash(bytes: number | null): string {
  return bytes === null ? '–' : formatBytes(bytes);
}

function layersSection(i: ImageReport): string[] {
  const out = [
    '',
    `<details><summary>Layers (${i.layerCount})</summary>`,
    '',
    '| # | Size | Compressed | Wasted | Dockerfile step |',
    '|--:|--:|--:|--:|---|',
  ];
  for (const l of i.layers) {
    out.push(
      `| ${l.index} | ${formatBytes(l.sizeBytes)} | ${formatBytes(l.compressedSizeBytes)} | ${l.wastedBytes ? formatBytes(l.wastedBytes) : '–'} | \`${mdCell(truncate(l.createdBy || '(base)', 100))}\` |`,
    );
  }
  out.push('', '</details>');
  return out;
}

/** The biggest wasted paths; nothing when the image wastes nothing. */
function wasteSection(i: ImageReport): string[] {
  if (i.waste.top.length === 0) return [];
  const out = [
    '',
    `<details><summary>Waste: ${formatBytes(i.waste.wastedBytes)} (efficiency ${formatRatio(i.waste.efficiency)})</summary>`,
    '',
    '| Wasted | Copies | Path |',
    '|--:|--:|---|',
  ];
  for (const w of i.waste.top.slice(0, 10))
    out.push(`| ${formatBytes(w.wastedBytes)} | ${w.count}${w.removed ? ' (deleted)' : ''} | \`${mdCell(w.path)}\` |`);
  out.push('', '</details>');
  return out;
}

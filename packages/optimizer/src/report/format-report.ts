import type { OptimizeReport, Totals } from './report.js';
import { RULE_NAMES } from '../rules/rules.js';

/** Bytes as a short human string (`1.23 MB`, decimal units). */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let n = Math.abs(bytes);
  for (const unit of ['B', 'kB', 'MB', 'GB']) {
    if (n < 1000 || unit === 'GB') return unit === 'B' ? `${sign}${n} B` : `${sign}${n.toFixed(2)} ${unit}`;
    n /= 1000;
  }
  return `${bytes} B`;
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

const totals = (t: Totals): string => `${formatBytes(t.bytes)} / ${t.files} files`;

/** A plain-text rendering of a report: totals, per rule, per distribution, services, warnings. Never throws. */
export function formatReport(report: OptimizeReport): string {
  const saved = report.before.bytes - report.after.bytes;
  const out: string[] = [];
  const where = report.layout.venvRoot !== undefined ? ` (venv ${report.layout.venvRoot || '.'})` : '';
  out.push(
    `${report.dryRun ? 'Would remove' : 'Removed'} ${formatBytes(saved)} (${pct(saved, report.before.bytes)}) and ` +
      `${report.before.files - report.after.files} files from site-packages '${report.layout.sitePackages || '.'}'${where}`,
    `  before: ${totals(report.before)}`,
    `  after:  ${totals(report.after)}`,
    '',
    'Per rule:',
  );
  const ruleRows = [['rule', 'bytes', 'files', 'rewritten']];
  for (const r of RULE_NAMES) {
    const s = report.rules[r];
    if (s.bytes === 0 && s.files === 0 && s.rewritten === 0) continue;
    ruleRows.push([`  ${r}`, formatBytes(s.bytes), String(s.files), String(s.rewritten)]);
  }
  out.push(table(ruleRows), '', 'Per distribution:');
  const distRows = [['distribution', 'version', 'action', 'before', 'after', 'saved', 'files before', 'files after']];
  for (const d of report.distributions) {
    distRows.push([
      `  ${d.name}`,
      d.version,
      d.action,
      formatBytes(d.before.bytes),
      formatBytes(d.after.bytes),
      formatBytes(d.before.bytes - d.after.bytes),
      String(d.before.files),
      String(d.after.files),
    ]);
  }
  out.push(table(distRows), '');
  if (report.services.botocore) {
    out.push(
      `AWS services kept (${report.services.kept.length}, ${report.services.removedCount} removed): ${report.services.kept.join(', ')}`,
    );
    if (report.services.endpointPrefixes.length > 0) {
      out.push(`endpoints.json pruned to: ${report.services.endpointPrefixes.join(', ')}`);
    }
  }
  for (const o of report.orphansRemoved) {
    out.push(`Removed ${o.name} ${o.version}: only ${o.requiredBy.join(', ')} required it`);
  }
  if (report.distributionsNotPresent.length > 0) {
    out.push(`Not installed (nothing to remove): ${report.distributionsNotPresent.join(', ')}`);
  }
  if (report.skipped.length > 0) {
    out.push(`Skipped (left alone, ${report.skipped.length}):`);
    for (const s of report.skipped) out.push(`  ${s.path} (${s.source}): ${s.reason}`);
  }
  for (const p of report.hardLinksSplit) {
    out.push(`Hard link split: ${p} was written as a new file; its other names keep the old content`);
  }
  for (const m of report.droppedMembers) out.push(`Dropped archive member ${m.name}: ${m.reason}`);
  for (const w of report.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

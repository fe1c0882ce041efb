import { formatBytes } from '../report/format-report.js';
import type { Totals } from '../report/report.js';
import { CLOSURE_PARTS } from './claims.js';
import type { ClosureReport } from './plan-closure.js';

const PART_LABELS: Readonly<Record<string, string>> = {
  interpreter: 'interpreter',
  stdlib: 'standard library',
  sharedLibraries: 'shared libraries',
  venv: 'virtual environment',
  app: 'application',
  system: 'system files',
};

const totals = (t: Totals): string => `${formatBytes(t.bytes)} in ${t.files} files`;

/** A plain-text rendering of a closure report: parts, libraries and why each is there, dropped modules. */
export function formatClosureReport(report: ClosureReport): string {
  const out = [
    `Minimal tree: ${totals(report.after)} (the input: ${totals(report.before)})`,
    `  interpreter ${report.interpreter.executable} (Python ${report.interpreter.version}) for ${report.interpreter.venv}`,
  ];
  for (const part of CLOSURE_PARTS)
    out.push(`  ${(PART_LABELS[part] ?? part).padEnd(20)} ${totals(report.parts[part])}`);
  out.push('', 'Shared libraries:');
  for (const l of report.libraries) {
    const needs = l.neededBy.length > 3 ? [...l.neededBy.slice(0, 3), `${l.neededBy.length - 3} more`] : l.neededBy;
    out.push(`  ${l.path.padEnd(48)} ${formatBytes(l.bytes).padStart(9)}  ${l.via}: ${needs.join(', ')}`);
  }
  out.push(`/etc/ld.so.cache ${report.ldSoCache.kept ? 'kept' : 'left out'}: ${report.ldSoCache.why}`);
  if (report.caBundle) out.push(`CA bundle: ${report.caBundle}`);
  out.push(`Runtime user: ${report.user.name} (${report.user.uid}:${report.user.gid})`);
  const dropped = report.stdlib.dropped.map((d) => (d.reason === 'excluded' ? d.module : `${d.module} (${d.reason})`));
  out.push(`Standard library left out (${totals(report.stdlib.droppedTotals)}): ${dropped.join(', ')}`);
  for (const i of report.conditionalImports) out.push(`  imported inside a block: ${i.file}:${i.line} ${i.module}`);
  const packages = report.packages.map((p) => `${p.name} ${p.version}`);
  out.push(`Debian packages recorded for scanners (/var/lib/dpkg/status.d): ${packages.join(', ') || 'none'}`);
  for (const w of report.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

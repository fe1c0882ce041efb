import { formatBytes, formatBytesDelta, formatDuration } from '../units/format-units.js';
import type { PackageChange } from './contents-report.js';
import type { ImageDiff, ImageReport } from './gate-report.js';

/**
 * The "why" parts of the Markdown and terminal reports: the start-up import profile, the packages that changed and
 * the paths that grew against the baseline. Pure; each returns lines (empty when the report has no such section).
 */

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function version(p: PackageChange): string {
  return p.change === 'changed' ? `${p.versionBefore} → ${p.versionAfter}` : (p.versionAfter ?? p.versionBefore ?? '');
}

/** A collapsed section with the import time per distribution and the program's slowest imports. */
export function importsMarkdown(image: ImageReport): string[] {
  const profile = image.startup?.importProfile;
  if (!profile) return [];
  const deltas = new Map((image.diff?.imports ?? []).map((i) => [i.distribution, i.deltaMs]));
  const rows = profile.byDistribution.slice(0, 15).map((d) => {
    const delta = deltas.get(d.distribution);
    const vs = delta === undefined ? '' : ` (${delta > 0 ? '+' : ''}${formatDuration(delta)})`;
    return `| ${cell(d.distribution)} | ${formatDuration(d.ms)}${vs} | ${d.modules} | \`import ${cell(d.entry)}\` ${formatDuration(d.entryCumulativeMs)} |`;
  });
  const top = profile.topLevel.slice(0, 10).map((m) => `\`${cell(m.module)}\` ${formatDuration(m.cumulativeMs)}`);
  return [
    '',
    `<details><summary>Start-up imports: ${formatDuration(profile.totalMs)} in ${profile.moduleCount} modules (one profiled run)</summary>`,
    '',
    '| Distribution | Import time | Modules | Slowest import |',
    '|---|--:|--:|---|',
    ...rows,
    '',
    `The program's own imports, slowest first: ${top.join(', ')}.`,
    '',
    '</details>',
  ];
}

/** Rows of the baseline section for packages and growing paths (inside its table: Change | Before | After | Δ | …). */
export function packagesMarkdown(d: ImageDiff): string[] {
  const packages = (d.packages ?? []).slice(0, 20).map((p) => {
    const paths = p.paths
      .slice(0, 3)
      .map((x) => `${x.path} ${formatBytesDelta(x.delta)}`)
      .join(', ');
    const what = `${p.kind === 'debian' ? 'Debian ' : ''}**${cell(p.name)}** ${cell(version(p))}${paths ? ` — ${cell(paths)}` : ''}`;
    return `| ${p.change} | ${bytes(p.before)} | ${bytes(p.after)} | ${formatBytesDelta(p.delta)} | ${what} |`;
  });
  const grown = (d.growingPaths ?? []).map(
    (g) => `| grew | ${bytes(g.before)} | ${bytes(g.after)} | ${formatBytesDelta(g.delta)} | \`${cell(g.path)}\` |`,
  );
  return [...packages, ...grown];
}

const bytes = (n: number | null) => (n === null ? '–' : formatBytes(n));

/** Terminal lines: the biggest package changes and paths that grew. */
export function packagesText(d: ImageDiff): string[] {
  const lines = (d.packages ?? [])
    .slice(0, 5)
    .map((p) => `    ${p.change.padEnd(8)} ${formatBytesDelta(p.delta).padStart(10)}  ${p.name} ${version(p)}`);
  for (const g of (d.growingPaths ?? []).slice(0, 3))
    lines.push(`    grew     ${formatBytesDelta(g.delta).padStart(10)}  ${g.path}`);
  return lines;
}

/** Terminal line: import time and the slowest distributions. */
export function importsText(image: ImageReport): string[] {
  const profile = image.startup?.importProfile;
  if (!profile) return [];
  const top = profile.byDistribution
    .slice(0, 4)
    .map((d) => `${d.distribution} ${formatDuration(d.ms)}`)
    .join(', ');
  return [`  imports: ${formatDuration(profile.totalMs)} in ${profile.moduleCount} modules (${top})`];
}

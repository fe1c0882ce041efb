import { mdCell } from '../report/render-markdown.js';
import { alignColumns } from '../report/render-text.js';
import type { ReleaseImageReport, ReleaseReport, ReleaseStatus } from './release-report.js';

/** Marker at the top of the release Markdown (job summary). */
export const RELEASE_MARKDOWN_MARKER = '<!-- 4pass-release -->';

const WORD: Record<ReleaseStatus, string> = {
  released: 'RELEASED',
  unchanged: 'UNCHANGED',
  refused: 'REFUSED',
  failed: 'FAILED',
  skipped: 'SKIPPED',
};
const ICON: Record<ReleaseStatus, string> = {
  released: '🚀',
  unchanged: '✅',
  refused: '❌',
  failed: '❌',
  skipped: '⏭️',
};

/** What happened to `to`, the reason, and the digest-pinned reference (one line each). */
function detail(image: ReleaseImageReport, to: string): string[] {
  const lines: string[] = [];
  if (image.message) lines.push(image.message);
  if (image.status === 'released' || image.status === 'unchanged') lines.push(`${to} → ${image.reference}`);
  if (image.record) lines.push(`recorded as ${image.record.tag}`);
  const moved = image.status === 'failed' ? image.tags.map((t) => t.tag) : [];
  if (image.status === 'failed')
    lines.push(moved.length ? `moved before the failure: ${moved.join(', ')}` : `${to} was not moved`);
  return lines;
}

/** The headline: what the run did as a whole. */
function result(report: ReleaseReport): string {
  const { summary: s, from, to } = report;
  if (s.failed) return `FAILED: a registry error stopped the release of ${from} (see above for what moved)`;
  if (s.refused) return `REFUSED: nothing was released; ${to} stays where it was`;
  if (!s.released)
    return `UNCHANGED: ${to} already names ${from} of ${s.unchanged} image${s.unchanged === 1 ? '' : 's'}`;
  const rollback = report.images.some((i) => i.status === 'released' && i.rollback) ? ' (a rollback)' : '';
  return `RELEASED ${from} as ${to}: ${s.released} image${s.released === 1 ? '' : 's'}${rollback}${s.unchanged ? `, ${s.unchanged} unchanged` : ''}`;
}

/** The terminal view: one row per image, each one's reasons, then the result. Pure. */
export function renderReleaseText(report: ReleaseReport): string {
  const rows = report.images.map((i) => [
    i.name,
    WORD[i.status] + (i.status === 'released' && i.rollback ? ' (rollback)' : ''),
    i.digest ?? '-',
  ]);
  const lines = alignColumns([['IMAGE', 'RESULT', `DIGEST OF ${report.from}`], ...rows]);
  for (const image of report.images) {
    const failed = image.checks.filter((c) => c.status === 'fail').map((c) => `✗ ${c.id}: ${c.message}`);
    const reasons = image.status === 'refused' ? failed : detail(image, report.to);
    if (reasons.length) lines.push('', `${image.name}:`, ...reasons.map((r) => `  ${r}`));
  }
  lines.push('', `Result: ${result(report)}`);
  return lines.join('\n') + '\n';
}

/** Markdown for `$GITHUB_STEP_SUMMARY`: the result, a table per image, every check. Pure. */
export function renderReleaseMarkdown(report: ReleaseReport): string {
  const out = [
    RELEASE_MARKDOWN_MARKER,
    `## Release of \`${mdCell(report.from)}\` as \`${mdCell(report.to)}\``,
    '',
    result(report),
    '',
  ];
  out.push('| image | result | reference | commit |', '|---|---|---|---|');
  for (const i of report.images) {
    const word = WORD[i.status] + (i.status === 'released' && i.rollback ? ' (rollback)' : '');
    out.push(
      `| ${mdCell(i.name)} | ${ICON[i.status]} ${word} | \`${mdCell(i.reference ?? '–')}\` | ${mdCell(i.commit?.slice(0, 12) ?? '–')} |`,
    );
  }
  for (const i of report.images) {
    out.push('', `### ${ICON[i.status]} ${mdCell(i.name)}`, '');
    for (const line of detail(i, report.to)) out.push(`- ${mdCell(line)}`);
    for (const c of i.checks)
      out.push(`- ${c.status === 'pass' ? '✅' : '❌'} \`${mdCell(c.id)}\`: ${mdCell(c.message)}`);
  }
  return out.join('\n') + '\n';
}

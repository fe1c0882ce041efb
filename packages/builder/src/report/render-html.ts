import type { Check } from '../budgets/check.js';
import { formatValue } from '../budgets/evaluate-budgets.js';
import { formatBytes, formatBytesDelta, formatDuration } from '../units/format-units.js';
import type { ImportProfile } from '../startup/import-profile.js';
import type { ContentsReport, ImportChange, PackageChange, PathGrowth } from './contents-report.js';
import { layoutTreemap, sizeTree, type TreemapRect } from './size-treemap.js';

/**
 * One self-contained HTML page (`--html FILE`): per image a treemap of its bytes by layer → path → Python
 * distribution (sizes on hover), the start-up import profile as a bar chart, and the baseline diff with what grew
 * highlighted. No script, no network: the layout is computed here (d3-hierarchy) and drawn as inline SVG, and a
 * Content-Security-Policy forbids every fetch. Pure; returns the text.
 */

/** What the page needs of an image report (an `ImageReport` fits). */
export interface HtmlImage {
  name: string;
  ref: string;
  pass: boolean;
  sizeBytes: number;
  compressedSizeBytes: number;
  layers: readonly { index: number; createdBy: string; sizeBytes: number }[];
  checks: readonly Check[];
  contents?: ContentsReport;
  startup: { medianMs: number | null; importProfile?: ImportProfile } | null;
  diff?: {
    sizeBytes: { delta: number };
    packages?: PackageChange[];
    growingPaths?: PathGrowth[];
    imports?: ImportChange[];
  };
}

export interface HtmlReportInput {
  generatedAt: string;
  pass: boolean;
  images: readonly HtmlImage[];
}

export interface RenderHtmlOptions {
  title?: string;
  /** Treemap size in CSS pixels (default 1100 × 560). */
  treemapWidth?: number;
  treemapHeight?: number;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const e = escapeHtml;

/** Renders the whole page. */
export function renderHtmlReport(report: HtmlReportInput, options: RenderHtmlOptions = {}): string {
  const title = options.title ?? `Image budget: ${report.pass ? 'pass' : 'FAIL'}`;
  const body = [
    `<header><h1>${e(title)}</h1><p class="meta">generated ${e(report.generatedAt)} · ${report.images.length} image${report.images.length === 1 ? '' : 's'}</p>`,
    `<nav>${report.images.map((i) => `<a href="#image-${e(i.name)}" class="${i.pass ? 'pass' : 'fail'}">${e(i.name)}</a>`).join(' ')}</nav></header>`,
    ...report.images.map((i) => imageSection(i, options)),
  ];
  return page(title, body.join('\n'));
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`;
}

function imageSection(image: HtmlImage, options: RenderHtmlOptions): string {
  const startup = image.startup?.medianMs != null ? ` · start-up p50 ${formatDuration(image.startup.medianMs)}` : '';
  const delta = image.diff
    ? ` · <span class="delta">${e(formatBytesDelta(image.diff.sizeBytes.delta))} vs baseline</span>`
    : '';
  return [
    `<section class="image" id="image-${e(image.name)}" data-image="${e(image.name)}">`,
    `<h2><span class="badge ${image.pass ? 'pass' : 'fail'}">${image.pass ? 'PASS' : 'FAIL'}</span> ${e(image.name)}</h2>`,
    `<p class="meta"><code>${e(image.ref)}</code> · ${formatBytes(image.sizeBytes)} · compressed ${formatBytes(image.compressedSizeBytes)} · ${image.layers.length} layers${startup}${delta}</p>`,
    checksList(image.checks),
    treemapSection(image, options),
    importSection(image),
    diffSection(image),
    '</section>',
  ].join('\n');
}

function checksList(checks: readonly Check[]): string {
  const shown = checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  if (shown.length === 0) return `<p class="ok">All ${checks.length} checks pass.</p>`;
  const items = shown.map((c) => {
    const details = c.details?.length ? `<pre>${e(c.details.slice(0, 20).join('\n'))}</pre>` : '';
    const numbers =
      c.actual !== null && c.limit !== null && typeof c.actual === 'number' && typeof c.limit === 'number'
        ? ` <span class="meta">(${e(formatValue(c.actual, c.unit))} / ${e(formatValue(c.limit, c.unit))})</span>`
        : '';
    return `<li class="check ${c.status}" data-check="${e(c.id)}"><b>${e(c.id)}</b>: ${e(c.message)}${numbers}${details}</li>`;
  });
  return `<ul class="checks">${items.join('')}</ul>`;
}

/** Distributions added or grown against the baseline: their rectangles are outlined. */
function grownDistributions(image: HtmlImage): Map<string, PackageChange> {
  return new Map(
    (image.diff?.packages ?? []).filter((p) => p.kind === 'python' && p.delta > 0).map((p) => [p.name, p]),
  );
}

function treemapSection(image: HtmlImage, options: RenderHtmlOptions): string {
  if (!image.contents || image.contents.paths.length === 0) return '';
  const width = options.treemapWidth ?? 1100;
  const height = options.treemapHeight ?? 560;
  const rects = layoutTreemap(sizeTree(image.name, image.layers, image.contents), width, height);
  const grown = grownDistributions(image);
  const biggest = image.contents.python.slice(0, 8).map((d) => `${e(d.name)} ${formatBytes(d.sizeBytes)}`);
  return [
    '<h3>Where the bytes are: layer → path → Python distribution</h3>',
    biggest.length ? `<p class="meta">Largest distributions: ${biggest.join(' · ')}</p>` : '',
    `<svg class="treemap" role="img" aria-label="size treemap of ${e(image.name)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    ...rects.map((r) => treemapRect(r, grown)),
    '</svg>',
    '<p class="legend"><span class="sw layer"></span>layer <span class="sw directory"></span>directory <span class="sw distribution"></span>Python distribution <span class="sw grew"></span>added or grown vs baseline</p>',
  ].join('\n');
}

function treemapRect(r: TreemapRect, grown: ReadonlyMap<string, PackageChange>): string {
  const n = r.node;
  const w = r.x1 - r.x0;
  const h = r.y1 - r.y0;
  const change = n.distribution ? grown.get(n.distribution) : undefined;
  const cls = `node kind-${n.kind} depth-${Math.min(r.depth, 6)}${change ? ' grew' : ''}`;
  const attrs = [
    `class="${cls}"`,
    `data-kind="${n.kind}"`,
    n.distribution ? `data-distribution="${e(n.distribution)}"` : '',
    change ? `data-change="${change.change}"` : '',
    `data-bytes="${n.sizeBytes}"`,
  ].filter(Boolean);
  const hover = `${n.title} — ${formatBytes(n.sizeBytes)}${change ? ` (${formatBytesDelta(change.delta)} vs baseline)` : ''}`;
  const maxChars = Math.floor((w - 6) / 6.5);
  const label =
    w > 36 && h > 13 && maxChars > 2
      ? `<text x="${r.x0 + 3}" y="${r.y0 + 12}">${e(clip(`${n.label} ${formatBytes(n.sizeBytes)}`, maxChars))}</text>`
      : '';
  return `<g ${attrs.join(' ')}><title>${e(hover)}</title><rect x="${r.x0}" y="${r.y0}" width="${w}" height="${h}"/>${label}</g>`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, Math.max(1, n - 1)) + '…';
}

function importSection(image: HtmlImage): string {
  const profile = image.startup?.importProfile;
  if (!profile) return '';
  const deltas = new Map((image.diff?.imports ?? []).map((i) => [i.distribution, i.deltaMs]));
  const rows = profile.byDistribution.slice(0, 12);
  const max = Math.max(1, ...rows.map((r) => r.ms));
  const rowHeight = 22;
  const bars = rows.map((r, i) => {
    const y = i * rowHeight;
    const width = Math.max(1, Math.round((r.ms / max) * 560));
    const delta = deltas.get(r.distribution);
    const deltaText = delta ? ` (${delta > 0 ? '+' : ''}${formatDuration(delta)})` : '';
    return [
      `<g class="bar${delta && delta > 0 ? ' slower' : ''}" data-distribution="${e(r.distribution)}" data-ms="${r.ms}">`,
      `<title>${e(`${r.distribution}: ${formatDuration(r.ms)} in ${r.modules} modules; import ${r.entry} ${formatDuration(r.entryCumulativeMs)} cumulative`)}</title>`,
      `<text x="0" y="${y + 15}">${e(clip(r.distribution, 28))}</text>`,
      `<rect x="200" y="${y + 3}" width="${width}" height="${rowHeight - 6}"/>`,
      `<text x="${206 + width}" y="${y + 15}">${e(formatDuration(r.ms) + deltaText)}</text></g>`,
    ].join('');
  });
  const top = profile.topLevel
    .slice(0, 8)
    .map(
      (m) =>
        `<li><code>import ${e(m.module)}</code> ${formatDuration(m.cumulativeMs)} <span class="meta">${e(m.distribution)}</span></li>`,
    );
  return [
    `<h3>Start-up imports: ${formatDuration(profile.totalMs)} in ${profile.moduleCount} modules (one profiled run)</h3>`,
    `<svg class="imports" role="img" aria-label="import time per distribution" viewBox="0 0 900 ${rows.length * rowHeight}" width="900" height="${rows.length * rowHeight}">`,
    ...bars,
    '</svg>',
    top.length ? `<p class="meta">The program's slowest imports:</p><ul class="toplevel">${top.join('')}</ul>` : '',
  ].join('\n');
}

function diffSection(image: HtmlImage): string {
  const d = image.diff;
  if (!d?.packages && !d?.growingPaths) return '';
  const packages = (d.packages ?? []).slice(0, 30).map((p) => {
    const version =
      p.change === 'changed' ? `${p.versionBefore} → ${p.versionAfter}` : (p.versionAfter ?? p.versionBefore ?? '');
    const paths = p.paths
      .slice(0, 3)
      .map((x) => `${x.path} ${formatBytesDelta(x.delta)}`)
      .join(', ');
    return `<tr class="change-${p.change}" data-package="${e(p.name)}" data-kind="${p.kind}"><td>${p.change}</td><td>${p.kind}</td><td><b>${e(p.name)}</b> ${e(version)}</td><td class="num">${formatBytesDelta(p.delta)}</td><td>${e(paths)}</td><td><code>${e(clip(p.layer ?? '', 70))}</code></td></tr>`;
  });
  const paths = (d.growingPaths ?? []).map(
    (g) =>
      `<tr class="grew" data-path="${e(g.path)}"><td><code>${e(g.path)}</code></td><td class="num">${formatBytesDelta(g.delta)}</td><td><code>${e(clip(g.layer ?? '', 70))}</code></td></tr>`,
  );
  return [
    `<h3>Compared with the baseline: ${formatBytesDelta(d.sizeBytes.delta)}</h3>`,
    packages.length
      ? `<table class="diff packages"><thead><tr><th>change</th><th>kind</th><th>package</th><th>Δ size</th><th>biggest paths</th><th>layer</th></tr></thead><tbody>${packages.join('')}</tbody></table>`
      : '<p class="meta">No package was added, removed or changed.</p>',
    paths.length
      ? `<table class="diff paths"><thead><tr><th>path that grew</th><th>Δ</th><th>layer</th></tr></thead><tbody>${paths.join('')}</tbody></table>`
      : '',
  ].join('\n');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 24px 48px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:19px;margin:28px 0 4px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5b6475}nav a{margin-right:10px}nav a.fail{color:#b3261e}code{font:12px ui-monospace,monospace}
.badge{font-size:12px;padding:2px 6px;border-radius:4px;color:#fff}.badge.pass{background:#1e7d3a}.badge.fail{background:#b3261e}
.image{border-top:1px solid #dde1e8;padding-top:4px}.delta{font-weight:600}
.checks{padding-left:18px}.check.fail b{color:#b3261e}.check.warn b{color:#9a6700}
.check pre{background:#f0f2f5;padding:6px 8px;white-space:pre-wrap;font-size:12px;margin:4px 0}
svg.treemap{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #dde1e8}
svg text{font:11px system-ui,sans-serif;fill:#1d2330;pointer-events:none}
.node rect{stroke:#fff;stroke-width:.5}.kind-image rect{fill:#eef0f4}.kind-layer rect{fill:#c9d6ea}
.kind-directory rect{fill:#dde6f3}.kind-file rect{fill:#eef3fa}.kind-other rect{fill:#f4f5f7}
.kind-distribution rect{fill:#f6dfa8;stroke:#a07a1c;stroke-width:1}.kind-distribution>text{font-weight:600}
.node.grew rect{stroke:#c62828;stroke-width:3;stroke-dasharray:6 3}.node:hover>rect{stroke:#1d2330;stroke-width:1.5}
.legend .sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-2px;border:1px solid #aab}
.sw.layer{background:#c9d6ea}.sw.directory{background:#dde6f3}.sw.distribution{background:#f6dfa8}.sw.grew{border:2px dashed #c62828}
svg.imports rect{fill:#5b7dbf}svg.imports .slower rect{fill:#c62828}
table.diff{border-collapse:collapse;margin:6px 0 12px}table.diff td,table.diff th{padding:3px 8px;border-bottom:1px solid #e3e6ec;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.change-added{background:#fdecea}tr.change-removed{background:#e8f5e9}
tr.change-changed{background:#fff7e0}tr.grew td:first-child{border-left:3px solid #c62828}
`;

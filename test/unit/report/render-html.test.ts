import { describe, expect, it } from 'vitest';
import { renderHtmlReport, type ContentsReport, type HtmlImage } from '@4pass/builder';
import { escapeHtml } from '../../../packages/builder/src/report/render-html.js';
import { layoutTreemap, sizeTree } from '../../../packages/builder/src/report/size-treemap.js';

const SITE = '/opt/venv/lib/python3.11/site-packages';
const contents: ContentsReport = {
  python: [
    {
      name: 'botocore',
      version: '1.43.107',
      location: SITE,
      sizeBytes: 3_000,
      fileCount: 3,
      layer: 1,
      topPaths: [],
      importNames: ['botocore'],
    },
    {
      name: 'six',
      version: '1.17.0',
      location: SITE,
      sizeBytes: 500,
      fileCount: 2,
      layer: 1,
      topPaths: [],
      importNames: ['six'],
    },
  ],
  debian: [],
  paths: [
    { layer: 0, path: '/usr', sizeBytes: 10_000 },
    { layer: 0, path: '/usr/lib', sizeBytes: 6_000 },
    { layer: 1, path: '/opt', sizeBytes: 3_700 },
    { layer: 1, path: '/opt/venv', sizeBytes: 3_700 },
    { layer: 1, path: '/opt/venv/lib', sizeBytes: 3_700 },
    { layer: 1, path: '/opt/venv/lib/python3.11', sizeBytes: 3_700 },
    { layer: 1, path: SITE, sizeBytes: 3_700 },
    { layer: 1, path: `${SITE}/botocore`, sizeBytes: 2_800 },
    { layer: 1, path: `${SITE}/botocore-1.43.107.dist-info`, sizeBytes: 200 },
    { layer: 1, path: `${SITE}/six.pyc`, sizeBytes: 400 },
    { layer: 1, path: `${SITE}/six-1.17.0.dist-info`, sizeBytes: 100 },
    { layer: 1, path: `${SITE}/<script>`, sizeBytes: 200 },
  ],
  sourcesWithoutBytecode: 0,
};
const layers = [
  { index: 0, createdBy: '', sizeBytes: 10_000 },
  { index: 1, createdBy: 'COPY /opt/venv /opt/venv # buildkit', sizeBytes: 3_700 },
];

describe('sizeTree', () => {
  it('nests layer → path → distribution, folds single-child chains and keeps unlisted bytes as (other files)', () => {
    const root = sizeTree('worker', layers, contents);
    expect(root.sizeBytes).toBe(13_700);
    const [base, venv] = root.children;
    expect(base).toMatchObject({ kind: 'layer', label: '#0 (base)', sizeBytes: 10_000 });
    expect(base?.children[0]?.children.map((c) => [c.kind, c.label, c.sizeBytes])).toEqual([
      ['file', 'lib', 6_000],
      ['other', '(other files)', 4_000],
    ]);
    expect(venv?.label).toBe('#1 COPY /opt/venv /opt/venv');
    const site = venv?.children[0];
    expect(site?.label).toBe('opt/venv/lib/python3.11/site-packages');
    expect(site?.children.map((c) => [c.kind, c.label, c.sizeBytes])).toEqual([
      ['distribution', 'botocore', 3_000],
      ['distribution', 'six', 500],
      ['file', '<script>', 200],
    ]);
  });

  it('lays out rectangles inside the box, children inside their parent', () => {
    const rects = layoutTreemap(sizeTree('worker', layers, contents), 800, 400);
    for (const r of rects) {
      expect(r.x0).toBeGreaterThanOrEqual(0);
      expect(r.x1).toBeLessThanOrEqual(800);
      expect(r.y1).toBeLessThanOrEqual(400);
    }
    const botocore = rects.find((r) => r.node.distribution === 'botocore');
    const six = rects.find((r) => r.node.distribution === 'six');
    const area = (r: typeof six) => (r ? (r.x1 - r.x0) * (r.y1 - r.y0) : 0);
    expect(area(botocore)).toBeGreaterThan(area(six));
  });
});

describe('renderHtmlReport', () => {
  const image: HtmlImage = {
    name: 'worker',
    ref: '4pass/worker:dev',
    pass: true,
    sizeBytes: 13_700,
    compressedSizeBytes: 5_000,
    layers,
    checks: [],
    contents,
    startup: null,
  };

  it('is one self-contained page: no script, no external reference, a CSP that forbids fetching', () => {
    const html = renderHtmlReport({ generatedAt: '2026-01-01T00:00:00Z', pass: true, images: [image] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    expect(html).toContain('data-distribution="botocore"');
    expect(html).toContain('&#60;script&#62;');
    expect(html).not.toContain('<h3>Start-up imports'); // no profile: no chart
    expect(html).not.toContain('Compared with the baseline'); // no diff: no table
  });

  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport, type ContentsReport, type HtmlImage, type ImportProfile } from '@4pass/builder';
import { explainChecks } from '../../packages/builder/src/report/explain-checks.js';
import { diffContents } from '../../packages/builder/src/report/diff-contents.js';
import { openHtml, screenshot } from './chromium.js';

/** The browser's getComputedStyle (the test project compiles without the DOM library). */
interface StyleReader {
  getComputedStyle(element: unknown): { strokeDasharray: string };
}

interface WorkerFixture {
  name: string;
  ref: string;
  sizeBytes: number;
  compressedSizeBytes: number;
  layers: { index: number; createdBy: string; sizeBytes: number }[];
  contents: ContentsReport;
  importProfile: ImportProfile;
}

/** The real worker image's contents (test/fixtures/reports/worker-contents.json), compared with a baseline without urllib3 and with a smaller pydantic. */
async function workerImage(): Promise<HtmlImage> {
  const w = JSON.parse(
    await readFile(new URL('../fixtures/reports/worker-contents.json', import.meta.url), 'utf8'),
  ) as WorkerFixture;
  const baseline: ContentsReport = {
    ...w.contents,
    python: w.contents.python
      .filter((d) => d.name !== 'urllib3')
      .map((d) => (d.name === 'pydantic' ? { ...d, sizeBytes: d.sizeBytes - 400_000, version: '2.12.0' } : d)),
  };
  const diff = diffContents(
    { contents: w.contents, layers: w.layers, importProfile: w.importProfile },
    { contents: baseline, layers: w.layers },
  );
  const checks = explainChecks(
    [
      {
        id: 'size',
        status: 'fail',
        actual: w.sizeBytes,
        limit: 160e6,
        unit: 'bytes',
        level: 'fail',
        message: 'size=167.1 MB > budget=160 MB',
      },
    ],
    { contents: w.contents, layers: w.layers, importProfile: w.importProfile },
  );
  return {
    name: w.name,
    ref: w.ref,
    pass: false,
    sizeBytes: w.sizeBytes,
    compressedSizeBytes: w.compressedSizeBytes,
    layers: w.layers,
    checks,
    contents: w.contents,
    startup: { medianMs: 504, importProfile: w.importProfile },
    diff: { sizeBytes: { delta: 888_446 }, ...diff },
  };
}

describe('the HTML report in headless Chromium', () => {
  it('shows the treemap, the import chart and the baseline diff, offline and without scripts', async () => {
    const html = renderHtmlReport({
      generatedAt: '2026-01-01T00:00:00.000Z',
      pass: false,
      images: [await workerImage()],
    });
    const opened = await openHtml(html);
    try {
      const { page } = opened;
      // Nothing but the page itself was requested, and the page runs no script.
      expect(opened.requests).toHaveLength(1);
      expect(opened.requests[0]).toMatch(/^file:\/\//);
      expect(await page.locator('script').count()).toBe(0);
      expect(opened.consoleErrors).toEqual([]);

      // Treemap: distributions drawn as rectangles, the largest by drawn area are the largest by size.
      const drawn = await page.$$eval('svg.treemap g.kind-distribution', (gs) =>
        gs.map((g) => {
          const r = g.querySelector('rect');
          return {
            name: g.getAttribute('data-distribution'),
            area: Number(r?.getAttribute('width')) * Number(r?.getAttribute('height')),
            hover: g.querySelector('title')?.textContent,
          };
        }),
      );
      const byArea = [...drawn].sort((a, b) => b.area - a.area).map((d) => d.name);
      expect(byArea.slice(0, 3)).toEqual(['pydantic_core', 'botocore', 'pydantic']);
      expect(drawn.find((d) => d.name === 'botocore')?.hover).toMatch(/^botocore 1\.43\.107 — 2\.\d+ MB$/);
      expect(await page.locator('svg.treemap g.kind-layer').count()).toBeGreaterThanOrEqual(2);

      // Bar chart: import time per distribution, botocore the slowest distribution after the standard library.
      const bars = await page.$$eval('svg.imports g.bar', (gs) => gs.map((g) => g.getAttribute('data-distribution')));
      expect(bars.slice(0, 2)).toEqual(['(stdlib)', 'botocore']);
      expect(await page.locator('ul.toplevel li').first().textContent()).toContain('import boto3');

      // Diff: the added and the grown distribution are highlighted in the table and outlined in the treemap.
      expect(await page.locator('tr.change-added[data-package="urllib3"]').count()).toBe(1);
      expect(await page.locator('tr.change-changed[data-package="pydantic"]').textContent()).toContain(
        '2.12.0 → 2.13.5',
      );
      const grew = await page.$$eval('svg.treemap g.grew', (gs) =>
        gs.map((g) => [g.getAttribute('data-distribution'), g.getAttribute('data-change')]),
      );
      expect(grew).toEqual(
        expect.arrayContaining([
          ['urllib3', 'added'],
          ['pydantic', 'changed'],
        ]),
      );
      const stroke = await page.$eval(
        'svg.treemap g.grew rect',
        (r) => (globalThis as unknown as StyleReader).getComputedStyle(r).strokeDasharray,
      );
      expect(stroke).not.toBe('none');

      // The failing budget says why.
      expect(await page.locator('li.check.fail[data-check="size"] pre').textContent()).toContain('why: largest:');
      const shot = await screenshot(page, 'html-report-worker.png');
      expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await opened.close();
    }
  });
});

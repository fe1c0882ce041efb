import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, gateReportSchema, loadGateReport, parseGateReport } from '@4pass/builder';
import { diffReports } from '../../../packages/builder/src/report/diff-reports.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/reports/${name}`, import.meta.url));

describe('recorded reports', () => {
  it('are schemaVersion 1 reports, which load as version 2 and then fit the exported schema', async () => {
    for (const name of ['baseline.json', 'current.json']) {
      const json = JSON.parse(readFileSync(fixture(name), 'utf8')) as { schemaVersion: number };
      expect(json.schemaVersion).toBe(1);
      expect(gateReportSchema.safeParse(json).success).toBe(false);
      const loaded = await loadGateReport(fixture(name));
      expect(loaded.schemaVersion).toBe(2);
      expect(gateReportSchema.safeParse(loaded).success).toBe(true);
    }
    expect((await loadGateReport(fixture('baseline.json'))).images[0]?.name).toBe('api');
  });

  it('a report that does not fit the schema is rejected with paths', () => {
    const json = JSON.parse(readFileSync(fixture('baseline.json'), 'utf8')) as Record<string, unknown>;
    const broken = { ...json, schemaVersion: 3, images: [{ name: 'api' }] };
    try {
      parseGateReport(broken, 'old.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const paths = (e as ConfigError).issues.map((i) => i.path);
      expect(paths).toContain('schemaVersion');
      expect(paths).toContain('images[0].imageId');
    }
  });
});

describe('diffReports', () => {
  it('shows size change per image, per layer (matched by Dockerfile step) and per path', async () => {
    const baseline = await loadGateReport(fixture('baseline.json'));
    const current = await loadGateReport(fixture('current.json'));
    const diffs = diffReports(current, baseline);
    expect(Object.keys(diffs)).toEqual(['api']); // worker is new: nothing to compare with
    const d = diffs.api!;
    expect(d.baselineImageId).toBe('sha256:' + '1'.repeat(64));
    expect(d.baselineGeneratedAt).toBe('2026-11-20T10:00:00.000Z');
    expect(d.sizeBytes).toEqual({ before: 180_000_000, after: 187_000_000, delta: 7_000_000, percent: 3.889 });
    expect(d.layerCount).toEqual({ before: 4, after: 4 });
    expect(d.layers.map((l) => [l.change, l.createdBy, l.delta])).toEqual([
      ['unchanged', 'COPY app/msg.txt /app/msg.txt # buildkit', 0],
      ['unchanged', 'COPY app/run.sh /app/bin/run.sh # buildkit', 0],
      ['added', 'RUN /bin/sh -c pip install x # buildkit', 5_000_000],
      ['changed', 'COPY app/data-v2.txt /app/data.txt # buildkit', 2_000_000],
      ['removed', 'COPY app/data-v1.txt /app/data.txt # buildkit', -27_019],
    ]);
    expect(d.paths).toEqual([
      { path: '/app', before: 10_848, after: 2_010_848, delta: 2_000_000 },
      { path: '/app/bin', before: 18, after: 18, delta: 0 },
      { path: '/opt/venv', before: null, after: 5_000_000, delta: 5_000_000 },
    ]);
    expect(d.startupMedianMs).toEqual({ before: 821, after: 870, delta: 49 });
  });

  it('matches repeated identical steps one to one, in order', async () => {
    const baseline = await loadGateReport(fixture('baseline.json'));
    const img = baseline.images[0]!;
    const twice = {
      ...baseline,
      images: [{ ...img, layers: [...img.layers, { ...img.layers[0]!, index: 4, sizeBytes: 99 }] }],
    };
    const d = diffReports(twice, baseline).api!;
    expect(
      d.layers.filter((l) => l.createdBy === 'COPY app/msg.txt /app/msg.txt # buildkit').map((l) => l.change),
    ).toEqual(['unchanged', 'added']);
  });
});

import { diffContents, type ContentsSide } from './diff-contents.js';
import type { GateReport, ImageDiff, ImageReport, LayerChange, PathChange, SizeChange } from './gate-report.js';

function sizeChange(before: number, after: number): SizeChange {
  return {
    before,
    after,
    delta: after - before,
    percent: before === 0 ? null : +(((after - before) / before) * 100).toFixed(3),
  };
}

/** Keys layers by their step text plus occurrence, so two identical steps still match one to one. */
function keyed(
  layers: readonly { createdBy: string; sizeBytes: number }[],
): Map<string, { createdBy: string; sizeBytes: number; order: number }> {
  const seen = new Map<string, number>();
  const out = new Map<string, { createdBy: string; sizeBytes: number; order: number }>();
  layers.forEach((l, order) => {
    const text = normalizeStep(l.createdBy);
    const n = seen.get(text) ?? 0;
    seen.set(text, n + 1);
    out.set(`${text}\u0000${n}`, { createdBy: l.createdBy, sizeBytes: l.sizeBytes, order });
  });
  return out;
}

/** Step texts differ in noise between builds (`|2 ARG=…` prefixes stay; trailing ` # buildkit` and spaces do not matter). */
function normalizeStep(s: string): string {
  return s
    .replace(/\s+#\s*buildkit\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Compares an image's report with the same image in an earlier report: total sizes, each layer (matched by the
 * Dockerfile step that made it), each configured path, and the startup median.
 */
export function diffImage(
  now: Omit<ImageReport, 'diff'>,
  before: ImageReport,
  baselineGeneratedAt?: string,
): ImageDiff {
  const a = keyed(before.layers);
  const b = keyed(now.layers);
  const layers: (LayerChange & { order: number })[] = [];
  for (const [key, l] of b) {
    const old = a.get(key);
    const delta = l.sizeBytes - (old?.sizeBytes ?? 0);
    layers.push({
      createdBy: l.createdBy,
      change: !old ? 'added' : delta !== 0 ? 'changed' : 'unchanged',
      before: old?.sizeBytes ?? null,
      after: l.sizeBytes,
      delta,
      order: l.order,
    });
  }
  for (const [key, l] of a) {
    if (!b.has(key))
      layers.push({
        createdBy: l.createdBy,
        change: 'removed',
        before: l.sizeBytes,
        after: null,
        delta: -l.sizeBytes,
        order: 1e9 + l.order,
      });
  }
  layers.sort((x, y) => x.order - y.order);
  const pathNames = [...new Set([...Object.keys(now.paths), ...Object.keys(before.paths)])];
  const paths: PathChange[] = pathNames.map((path) => {
    const x = before.paths[path];
    const y = now.paths[path];
    return { path, before: x ?? null, after: y ?? null, delta: (y ?? 0) - (x ?? 0) };
  });
  const sb = before.startup?.medianMs ?? null;
  const sa = now.startup?.medianMs ?? null;
  return {
    baselineImageId: before.imageId,
    ...(baselineGeneratedAt && { baselineGeneratedAt }),
    sizeBytes: sizeChange(before.sizeBytes, now.sizeBytes),
    compressedSizeBytes: sizeChange(before.compressedSizeBytes, now.compressedSizeBytes),
    layerCount: { before: before.layerCount, after: now.layerCount },
    layers: layers.map(({ order: _order, ...l }) => l),
    paths,
    startupMedianMs: { before: sb, after: sa, delta: sa !== null && sb !== null ? sa - sb : null },
    ...diffContents(contentsSide(now), contentsSide(before)),
  };
}

function contentsSide(image: Omit<ImageReport, 'diff'>): ContentsSide {
  return {
    layers: image.layers,
    ...(image.contents && { contents: image.contents }),
    ...(image.startup?.importProfile && { importProfile: image.startup.importProfile }),
  };
}

/** Finds an image by name in a baseline (a whole report or a single image report). */
export function baselineImage(
  baseline: GateReport | ImageReport | undefined,
  name: string,
): { image: ImageReport; generatedAt?: string } | undefined {
  if (!baseline) return undefined;
  if ('schemaVersion' in baseline) {
    const image = baseline.images.find((i) => i.name === name);
    return image && { image, generatedAt: baseline.generatedAt };
  }
  return baseline.name === name ? { image: baseline } : undefined;
}

/** Diffs every image of `now` that the baseline holds (by name). */
export function diffReports(now: GateReport, baseline: GateReport): Record<string, ImageDiff> {
  const out: Record<string, ImageDiff> = {};
  for (const image of now.images) {
    const b = baselineImage(baseline, image.name);
    if (b) out[image.name] = diffImage(image, b.image, baseline.generatedAt);
  }
  return out;
}

import { formatBytes, formatBytesDelta, formatDuration } from '../units/format-units.js';
import type { ContentsReport, ImportChange, PackageChange, PathGrowth } from './contents-report.js';
import type { ImportProfile } from '../startup/import-profile.js';
import { violated, type Check } from '../budgets/check.js';
import { knownFix, type Contributor, type FixContext } from './known-fixes.js';

/**
 * "Why": a failing size or start-up budget names its top three contributors and, when one is known, the rule that
 * would fix each. Size and path budgets rank what the image holds; growth ranks what changed against the baseline;
 * start-up budgets rank import time per distribution. Pure; the lines go into the check's `details`.
 */

export interface ExplainInput {
  contents?: ContentsReport;
  layers: readonly { createdBy: string }[];
  importProfile?: ImportProfile;
  diff?: { packages?: PackageChange[]; growingPaths?: PathGrowth[]; imports?: ImportChange[] };
}

/** A ranked contributor with its message. */
interface Ranked {
  contributor: Contributor;
  weight: number;
  text: string;
}

const SIZE_CHECKS = /^(size|compressedSize)$/;
const STARTUP_CHECKS = /^(startupMedian|startupP95)$/;

/** Adds "why" lines to the violated size, path, growth and start-up checks; other checks are returned as they are. */
export function explainChecks(checks: readonly Check[], input: ExplainInput): Check[] {
  return checks.map((check) => {
    if (!violated(check)) return check;
    const lines = explainCheck(check, input);
    return lines.length ? { ...check, details: [...lines, ...(check.details ?? [])] } : check;
  });
}

/** The "why" lines of one check (empty when nothing is known about its contributors). */
export function explainCheck(check: Check, input: ExplainInput): string[] {
  const context: FixContext = {
    ...(input.contents?.botocoreServices !== undefined && { botocoreServices: input.contents.botocoreServices }),
    ...(input.contents && { sourcesWithoutBytecode: input.contents.sourcesWithoutBytecode }),
  };
  let ranked: Ranked[];
  if (check.id === 'growth') ranked = growthContributors(input);
  else if (SIZE_CHECKS.test(check.id)) ranked = sizeContributors(input);
  else if (check.id.startsWith('pathSize:')) ranked = sizeContributors(input, check.id.slice('pathSize:'.length));
  else if (STARTUP_CHECKS.test(check.id)) ranked = startupContributors(input);
  else return [];
  return render(ranked, context, check.id === 'growth' ? 'grew most' : 'largest');
}

function render(ranked: Ranked[], context: FixContext, heading: string): string[] {
  if (ranked.length === 0) return [];
  const sorted = [...ranked].sort((a, b) => b.weight - a.weight);
  const withFix = (r: Ranked) => {
    const fix = knownFix(r.contributor, context);
    return fix ? `${r.text} → ${fix.advice}` : r.text;
  };
  const top = sorted.slice(0, 3);
  const also = sorted
    .slice(3)
    .filter((r) => knownFix(r.contributor, context))
    .slice(0, 3);
  return [
    `why: ${heading}:`,
    ...top.map((r, i) => `  ${i + 1}. ${withFix(r)}`),
    ...also.map((r) => `  also: ${withFix(r)}`),
  ];
}

const layerText = (step: string | null | undefined): string =>
  step ? ` (layer \`${step.replace(/\s+#\s*buildkit\s*$/, '').slice(0, 80)}\`)` : '';

function sizeContributors(input: ExplainInput, under?: string): Ranked[] {
  const c = input.contents;
  if (!c) return [];
  const inside = (p: string) => under === undefined || p === under || p.startsWith(under + '/');
  const out: Ranked[] = c.python
    .filter((d) => inside(d.location))
    .map((d) => ({
      contributor: { kind: 'python', name: d.name, sizeBytes: d.sizeBytes, topPaths: d.topPaths },
      weight: d.sizeBytes,
      text: `${d.name} ${d.version}: ${formatBytes(d.sizeBytes)}${biggest(d.topPaths)}${layerText(input.layers[d.layer]?.createdBy)}`,
    }));
  if (under === undefined) {
    for (const p of c.debian) {
      out.push({
        contributor: { kind: 'debian', name: p.name, sizeBytes: p.sizeBytes },
        weight: p.sizeBytes,
        text: `Debian ${p.name} ${p.version}: ${formatBytes(p.sizeBytes)}`,
      });
    }
  }
  for (const [path, sizeBytes] of summedPaths(c.paths)) {
    const contributor: Contributor = { kind: 'path', path, sizeBytes };
    if (inside(path) && knownFix(contributor))
      out.push({ contributor, weight: sizeBytes, text: `${path}: ${formatBytes(sizeBytes)}` });
  }
  return out;
}

function biggest(paths: readonly { path: string; sizeBytes: number }[]): string {
  const p = paths[0];
  return p ? `, of which ${p.path} ${formatBytes(p.sizeBytes)}` : '';
}

function summedPaths(paths: ContentsReport['paths']): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of paths) out.set(p.path, (out.get(p.path) ?? 0) + p.sizeBytes);
  return out;
}

function growthContributors(input: ExplainInput): Ranked[] {
  const packages = (input.diff?.packages ?? []).filter((p) => p.delta > 0);
  const out: Ranked[] = packages.map((p) => {
    const dist = input.contents?.python.find((d) => d.name === p.name);
    const contributor: Contributor =
      p.kind === 'python'
        ? { kind: 'python', name: p.name, sizeBytes: p.after ?? 0, topPaths: dist?.topPaths ?? [] }
        : { kind: 'debian', name: p.name, sizeBytes: p.after ?? 0 };
    const version = p.change === 'added' ? ` ${p.versionAfter ?? ''} added` : ` ${p.versionBefore} → ${p.versionAfter}`;
    const top = p.paths.find((x) => x.delta > 0);
    const of = top ? `, of which ${top.path} ${formatBytesDelta(top.delta)}` : '';
    return {
      contributor,
      weight: p.delta,
      text: `${formatBytesDelta(p.delta)}: ${p.name}${version}${of}${layerText(p.layer)}`,
    };
  });
  if (out.length < 3) {
    for (const g of input.diff?.growingPaths ?? []) {
      out.push({
        contributor: { kind: 'path', path: g.path, sizeBytes: g.after ?? 0 },
        weight: g.delta,
        text: `${formatBytesDelta(g.delta)}: ${g.path}${layerText(g.layer)}`,
      });
    }
  }
  return out;
}

function startupContributors(input: ExplainInput): Ranked[] {
  const profile = input.importProfile;
  if (!profile) return [];
  const changed = new Map((input.diff?.imports ?? []).map((i) => [i.distribution, i.deltaMs]));
  return profile.byDistribution.map((d) => {
    const delta = changed.get(d.distribution);
    const deltaText = delta ? ` (${delta > 0 ? '+' : ''}${formatDuration(delta)} vs baseline)` : '';
    return {
      contributor: { kind: 'import', distribution: d.distribution, ms: d.ms, entry: d.entry },
      weight: input.diff?.imports ? (delta ?? 0) : d.ms,
      text: `import ${d.entry} … ${formatDuration(d.entryCumulativeMs)}: ${d.distribution} modules ${formatDuration(d.ms)} of ${formatDuration(profile.totalMs)} of imports${deltaText}`,
    };
  });
}

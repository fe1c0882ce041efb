import { checkStructure } from '../budgets/check-structure.js';
import { explainChecks } from './explain-checks.js';
import type { Check } from '../budgets/check.js';
import { evaluateBudgets } from '../budgets/evaluate-budgets.js';
import { redactSecrets, secretEnvValues } from '../secrets/scan-secrets.js';
import type { ImageConfig } from '../config/config-types.js';
import { formatDuration } from '../units/format-units.js';
import { importNameOwners, type ImageContents } from '../inspect/image-contents.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import { moduleOwner, summarizeImports } from '../startup/import-profile.js';
import type { StartupResult } from '../startup/startup-result.js';
import { contentsReport } from './contents-report.js';
import { baselineImage, diffImage } from './diff-reports.js';
import {
  REPORT_SCHEMA_VERSION,
  type BuildReport,
  type GateReport,
  type ImageError,
  type ImageReport,
  type SbomReport,
  type StartupReport,
} from './gate-report.js';

export interface EvaluateImageOptions {
  /** Stage durations to record in the report (ms). */
  durations?: Record<string, number>;
  /** What the build took from the cache and rebuilt. */
  build?: BuildReport;
  /** Measurements reused from an earlier run of the same image id. */
  reused?: ImageReport['reused'];
  /** The engine that built and measured the image (`engineLabel`). */
  engine?: string;
  /** The image's SBOM, summarised (`sbomReport`). */
  sbom?: SbomReport;
  /**
   * `false` (`--no-budget`): no budget rule and no structure check runs, only the credential scan (a baked-in secret
   * is never waved through). Default true.
   */
  budgets?: boolean;
}

/** What `budgets: false` leaves of an image's rules: the credential scan, nothing else. */
function credentialScanOnly(config: Pick<ImageConfig, 'structure'>): Pick<ImageConfig, 'budgets' | 'structure'> {
  return {
    budgets: { pathSizes: {} },
    structure: { absentPaths: [], presentPaths: [], noSecrets: config.structure.noSecrets },
  };
}

/**
 * Evaluates one image: budget rules, structure checks, startup outcome and growth against the baseline, into the
 * serialisable `ImageReport`, with its contents and import profile; failing size and start-up checks say why
 * (`explainChecks`). Pure. Layer step texts are redacted (`NAME=***`) so the report never carries a secret.
 */
export function evaluateImage(
  facts: ImageFacts,
  config: Pick<ImageConfig, 'name' | 'budgets' | 'structure'>,
  startup?: StartupResult,
  baseline?: GateReport | ImageReport,
  options: EvaluateImageOptions = {},
): ImageReport {
  const base = baselineImage(baseline, config.name);
  const rules = options.budgets === false ? credentialScanOnly(config) : config;
  const checks = imageChecks(facts, rules, startup, base?.image);
  const report = imageReport(facts, config.name, checks, startup, options);
  const diff = base ? diffImage(report, base.image, base.generatedAt) : undefined;
  const explained = explainChecks(checks, {
    layers: report.layers,
    ...(report.contents && { contents: report.contents }),
    ...(report.startup?.importProfile && { importProfile: report.startup.importProfile }),
    ...(diff && { diff }),
  });
  return { ...report, checks: explained, ...(diff && { diff }) };
}

function imageReport(
  facts: ImageFacts,
  name: string,
  checks: Check[],
  startup: StartupResult | undefined,
  options: EvaluateImageOptions,
): Omit<ImageReport, 'diff'> {
  return {
    name,
    ref: facts.ref,
    imageId: facts.imageId,
    tags: facts.tags,
    pass: !checks.some((c) => c.status === 'fail'),
    sizeBytes: facts.sizeBytes,
    compressedSizeBytes: facts.compressedSizeBytes,
    layerCount: facts.layers.length,
    layers: layerReports(facts),
    paths: { ...facts.paths },
    waste: {
      wastedBytes: facts.waste.wastedBytes,
      efficiency: facts.waste.efficiency,
      totalBytes: facts.waste.totalBytes,
      top: facts.waste.inefficiencies
        .slice(0, 20)
        .map((i) => ({ path: i.path, wastedBytes: i.wastedBytes, count: i.count, removed: i.removed })),
    },
    startup: startup ? startupReport(startup, facts.contents) : null,
    ...(facts.contents && { contents: contentsReport(facts.contents) }),
    checks,
    summary: {
      passed: checks.filter((c) => c.status === 'pass').length,
      warned: checks.filter((c) => c.status === 'warn').length,
      failed: checks.filter((c) => c.status === 'fail').length,
      skipped: checks.filter((c) => c.status === 'skip').length,
    },
    ...(options.durations && { durations: options.durations }),
    ...(options.build && { build: options.build }),
    ...(options.reused?.length && { reused: options.reused }),
    ...(options.engine && { engine: options.engine }),
    ...(options.sbom && { sbom: options.sbom }),
  };
}

/** Startup outcome, budget rules, then structure checks, in report order. */
function imageChecks(
  facts: ImageFacts,
  config: Pick<ImageConfig, 'budgets' | 'structure'>,
  startup: StartupResult | undefined,
  baseline: ImageReport | undefined,
): Check[] {
  const checks: Check[] = [];
  if (startup) checks.push(startupCheck(startup));
  checks.push(
    ...evaluateBudgets(
      {
        sizeBytes: facts.sizeBytes,
        compressedSizeBytes: facts.compressedSizeBytes,
        layerCount: facts.layers.length,
        wastedBytes: facts.waste.wastedBytes,
        efficiency: facts.waste.efficiency,
        paths: facts.paths,
        ...(startup && { startup }),
        ...(baseline && { baseline }),
      },
      config.budgets,
    ),
  );
  checks.push(...checkStructure(facts, config.structure, startup));
  return checks;
}

/** The image's layers with their Dockerfile step texts redacted (`NAME=***`). */
function layerReports(facts: ImageFacts): ImageReport['layers'] {
  const known = secretEnvValues(facts.config.env);
  return facts.layers.map((l) => ({
    index: l.index,
    diffId: l.diffId,
    createdBy: redactSecrets(l.createdBy, known),
    sizeBytes: l.sizeBytes,
    compressedSizeBytes: l.compressedBytes,
    wastedBytes: l.wastedBytes,
    entryCount: l.entryCount,
  }));
}

function startupCheck(s: StartupResult): Check {
  const failed = s.runs.filter((r) => !r.ok);
  if (failed.length === 0) {
    return {
      id: 'startup',
      status: 'pass',
      actual: s.runs.length,
      limit: s.runs.length,
      unit: 'count',
      level: 'fail',
      message: `ready by ${s.ready} in ${s.runs.length}/${s.runs.length} runs (median ${formatDuration(s.medianMs ?? 0)})`,
    };
  }
  return {
    id: 'startup',
    status: 'fail',
    actual: s.runs.length - failed.length,
    limit: s.runs.length,
    unit: 'count',
    level: 'fail',
    message: `ready by ${s.ready} in ${s.runs.length - failed.length}/${s.runs.length} runs; run ${failed[0]?.run}: ${failed[0]?.error ?? 'failed'}`,
    details: s.failures.flatMap((f) => [`run ${f.run}: ${f.reason}`, ...f.logTail.map((l) => `  | ${l}`)]),
  };
}

/** The start-up measurement, with the import profile summarised by distribution (owners from the image's contents). */
function startupReport(s: StartupResult, contents: ImageContents | undefined): StartupReport {
  const owner = moduleOwner(importNameOwners(contents?.python ?? []), new Set(contents?.pythonStdlib ?? []));
  return {
    ready: s.ready,
    ok: s.ok,
    medianMs: s.medianMs ?? null,
    p95Ms: s.p95Ms ?? null,
    minMs: s.minMs ?? null,
    maxMs: s.maxMs ?? null,
    processMedianMs: s.processMedianMs ?? null,
    runs: s.runs,
    failures: s.failures,
    runtimeUid: s.runtimeUid ?? null,
    settings: s.settings,
    ...(s.importTimes && { importProfile: summarizeImports(s.importTimes, { owner }) }),
  };
}

/** Assembles the gate report; `pass` is false when any image failed or could not be measured. */
export function buildGateReport(
  images: ImageReport[],
  options: { errors?: ImageError[]; baseline?: GateReport; baselineSource?: string; now?: Date } = {},
): GateReport {
  const errors = options.errors ?? [];
  const failed = images.filter((i) => !i.pass).length;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: (options.now ?? new Date()).toISOString(),
    pass: failed === 0 && errors.length === 0,
    summary: {
      images: images.length + errors.length,
      passed: images.length - failed,
      failed,
      warnings: images.reduce((a, i) => a + i.summary.warned, 0),
      errors: errors.length,
    },
    ...(options.baseline && {
      baseline: {
        generatedAt: options.baseline.generatedAt,
        ...(options.baselineSource && { source: options.baselineSource }),
      },
    }),
    images,
    errors,
  };
}

/**
 * The documented exit code for a gate report: 0 all images pass, 1 a budget failed, 3 an image could not be built or
 * measured (build, engine or registry error). (2, bad usage or config, is the CLI's before any report exists.)
 * Never throws.
 */
export function gateExitCode(report: GateReport): 0 | 1 | 3 {
  if (report.errors.length > 0) return 3;
  return report.pass ? 0 : 1;
}

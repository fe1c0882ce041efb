import { z } from 'zod';
import type { Check } from '../budgets/check.js';
import type { ImportProfile } from '../startup/import-profile.js';
import type { StartupFailure, StartupRun, StartupSettings } from '../startup/startup-result.js';
import {
  contentsReportSchema,
  importChangeSchema,
  importProfileSchema,
  packageChangeSchema,
  pathGrowthSchema,
  type ContentsReport,
  type ImportChange,
  type PackageChange,
  type PathGrowth,
} from './contents-report.js';

/**
 * The JSON report of a gate run (`--json FILE`), `schemaVersion: 2`. One object feeds every renderer (terminal table,
 * Markdown, JUnit). Sizes are bytes, durations milliseconds, ratios in [0, 1]. Documented in docs/report-schema.md.
 */
export const REPORT_SCHEMA_VERSION = 2 as const;

/** One layer, with the Dockerfile step that made it (credential-looking values in the step text are replaced by `***`). */
export interface LayerReport {
  index: number;
  diffId: string;
  createdBy: string;
  /** Regular-file bytes in the layer. */
  sizeBytes: number;
  /** Gzip size as a registry stores it. */
  compressedSizeBytes: number;
  /** Bytes of this layer's files hidden by later layers. */
  wastedBytes: number;
  entryCount: number;
}

/** Startup measurement (container start → ready), or `null` in `ImageReport.startup` when not measured. */
export interface StartupReport {
  ready: 'healthcheck' | 'logPattern' | 'command';
  ok: boolean;
  medianMs: number | null;
  p95Ms: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** In-container process time reported by the image, median (ms). */
  processMedianMs: number | null;
  runs: StartupRun[];
  failures: StartupFailure[];
  runtimeUid: number | null;
  settings: StartupSettings;
  /** Python images: one extra run with `PYTHONPROFILEIMPORTTIME=1` (not timed). Absent for other images. */
  importProfile?: ImportProfile;
}

export interface SizeChange {
  before: number;
  after: number;
  delta: number;
  /** `delta / before * 100`; null when `before` is 0. */
  percent: number | null;
}

/** A layer matched between baseline and now by its Dockerfile step (`createdBy`, then occurrence). */
export interface LayerChange {
  createdBy: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  before: number | null;
  after: number | null;
  delta: number;
}

export interface PathChange {
  path: string;
  before: number | null;
  after: number | null;
  delta: number;
}

/** This image compared with the same image (by name) in the baseline report. */
export interface ImageDiff {
  baselineImageId: string;
  baselineGeneratedAt?: string;
  sizeBytes: SizeChange;
  compressedSizeBytes: SizeChange;
  layerCount: { before: number; after: number };
  layers: LayerChange[];
  paths: PathChange[];
  startupMedianMs: { before: number | null; after: number | null; delta: number | null };
  /** Python distributions and Debian packages added, removed or changed (both sides need `contents`). */
  packages?: PackageChange[];
  /** The paths that grew most, with the layer that brings them. */
  growingPaths?: PathGrowth[];
  /** Import time per distribution (both sides need an import profile). */
  imports?: ImportChange[];
}

export interface ImageReport {
  /** The image's name in images.config.json. */
  name: string;
  /** The reference that was measured (tag or id). */
  ref: string;
  imageId: string;
  tags: string[];
  /** No check failed (warnings pass). */
  pass: boolean;
  sizeBytes: number;
  compressedSizeBytes: number;
  layerCount: number;
  layers: LayerReport[];
  /** Regular-file bytes under each configured path of the final tree. */
  paths: Record<string, number>;
  waste: {
    wastedBytes: number;
    /** finalBytes / totalBytes over all layers. */
    efficiency: number;
    totalBytes: number;
    /** The paths wasting most, at most 20. */
    top: { path: string; wastedBytes: number; count: number; removed: boolean }[];
  };
  startup: StartupReport | null;
  /** What the image is made of: Python distributions, Debian packages, per-layer biggest paths. */
  contents?: ContentsReport;
  checks: Check[];
  summary: { passed: number; warned: number; failed: number; skipped: number };
  /** Against the baseline report, when one was given and holds this image. */
  diff?: ImageDiff;
  /** Stage durations (ms) that the caller wants recorded, e.g. `{ build: 41000, inspect: 2100, startup: 5200 }`. */
  durations?: Record<string, number>;
  /** The build: each Dockerfile stage taken from BuildKit's cache or rebuilt (with the time of what ran), and the context sent. */
  build?: BuildReport;
  /** Measurements taken over from an earlier run of the same image id: `inspect`, `startup`, `smoke`. */
  reused?: ('inspect' | 'startup' | 'smoke')[];
  /** The engine that built and measured the image: `name (address)` in a pool, else its address. */
  engine?: string;
  /** What the push did for this image; absent when no push was asked for. */
  push?: PushReport;
  /** The image's SBOM (CycloneDX): what it lists, and where the push stored it. */
  sbom?: SbomReport;
}

/** The image's SBOM in the report: its identity, what it lists, and (after a push) the artifact holding it. */
export interface SbomReport {
  /** `CycloneDX`. */
  format: string;
  specVersion: string;
  /** The document's `serialNumber` (`urn:uuid:…`). */
  serialNumber: string;
  /** Components listed: all, Debian packages, Python distributions, application files. */
  components: number;
  debian: number;
  python: number;
  files: number;
  /** Stored next to the pushed image: its tag (`sha256-<hex>.sbom`) and the artifact's manifest digest. */
  stored?: { tag: string; digest: string };
}

export interface BuildReport {
  stages: { stage: string; cached: boolean; stepsRun: number; stepsCached: number; durationMs: number }[];
  context?: { transport: 'session' | 'tar'; bytesSent: number; filesSent: number };
}

/** One image's push: the tags the registry holds for it afterwards (each with its digest), and the failure if any. */
export interface PushReport {
  /** `failed` also when the run was interrupted during the push (`interrupted: true`). */
  status: 'pushed' | 'failed' | 'skipped';
  /** `host[:port]/name`, when the push got that far. */
  repository?: string;
  /** Tags that point at this image in the registry, in push order; `via: unchanged` = already there, not moved. */
  tags: { tag: string; digest: string; via: 'engine-push' | 'ecr-put-image' | 'registry-api' | 'unchanged' }[];
  /** Why the push failed, or why nothing was pushed. */
  message?: string;
  interrupted?: boolean;
}

/** An image the gate could not measure (build or engine failure, or the run was interrupted); it fails the gate. */
export interface ImageError {
  name: string;
  stage: string;
  message: string;
  /** The run was interrupted (SIGINT, SIGTERM, an abort) during `stage`: nothing failed, it stopped. */
  interrupted?: boolean;
}

export interface GateReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  /** Every image passed and there are no errors. */
  pass: boolean;
  summary: { images: number; passed: number; failed: number; warnings: number; errors: number };
  baseline?: { generatedAt: string; source?: string };
  images: ImageReport[];
  errors: ImageError[];
}

// ---------------------------------------------------------------------------------------------------------------------
// zod schema (kept in step with the interfaces by the `z.ZodType<…>` annotations)

const nullableNumber = z.number().nullable();

export const checkSchema: z.ZodType<Check> = z.object({
  id: z.string().min(1),
  status: z.enum(['pass', 'warn', 'fail', 'skip']),
  actual: z.union([z.number(), z.string()]).nullable(),
  limit: z.union([z.number(), z.string()]).nullable(),
  unit: z.enum(['bytes', 'ms', 'count', 'ratio', 'percent']).optional(),
  level: z.enum(['warn', 'fail']),
  message: z.string(),
  details: z.array(z.string()).optional(),
});

const startupRunSchema: z.ZodType<StartupRun> = z.object({
  run: z.number().int().min(1),
  ok: z.boolean(),
  readyMs: z.number().nonnegative().optional(),
  processMs: z.number().nonnegative().optional(),
  error: z.string().optional(),
});

export const startupReportSchema: z.ZodType<StartupReport> = z.object({
  ready: z.enum(['healthcheck', 'logPattern', 'command']),
  ok: z.boolean(),
  medianMs: nullableNumber,
  p95Ms: nullableNumber,
  minMs: nullableNumber,
  maxMs: nullableNumber,
  processMedianMs: nullableNumber,
  runs: z.array(startupRunSchema),
  failures: z.array(z.object({ run: z.number().int(), reason: z.string(), logTail: z.array(z.string()) })),
  runtimeUid: z.number().int().nullable(),
  settings: z.object({
    runs: z.number().int(),
    timeoutMs: z.number(),
    network: z.boolean(),
    readOnly: z.boolean(),
    user: z.string().optional(),
    healthcheckIntervalMs: z.number().optional(),
  }),
  importProfile: importProfileSchema.optional(),
});

const sizeChangeSchema = z.object({
  before: z.number(),
  after: z.number(),
  delta: z.number(),
  percent: nullableNumber,
});

export const imageDiffSchema: z.ZodType<ImageDiff> = z.object({
  baselineImageId: z.string(),
  baselineGeneratedAt: z.string().optional(),
  sizeBytes: sizeChangeSchema,
  compressedSizeBytes: sizeChangeSchema,
  layerCount: z.object({ before: z.number().int(), after: z.number().int() }),
  layers: z.array(
    z.object({
      createdBy: z.string(),
      change: z.enum(['added', 'removed', 'changed', 'unchanged']),
      before: nullableNumber,
      after: nullableNumber,
      delta: z.number(),
    }),
  ),
  paths: z.array(z.object({ path: z.string(), before: nullableNumber, after: nullableNumber, delta: z.number() })),
  startupMedianMs: z.object({ before: nullableNumber, after: nullableNumber, delta: nullableNumber }),
  packages: z.array(packageChangeSchema).optional(),
  growingPaths: z.array(pathGrowthSchema).optional(),
  imports: z.array(importChangeSchema).optional(),
});

const bytes = z.number().int().nonnegative();

export const imageReportSchema: z.ZodType<ImageReport> = z.object({
  name: z.string().min(1),
  ref: z.string(),
  imageId: z.string(),
  tags: z.array(z.string()),
  pass: z.boolean(),
  sizeBytes: bytes,
  compressedSizeBytes: bytes,
  layerCount: z.number().int().nonnegative(),
  layers: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      diffId: z.string(),
      createdBy: z.string(),
      sizeBytes: bytes,
      compressedSizeBytes: bytes,
      wastedBytes: bytes,
      entryCount: z.number().int().nonnegative(),
    }),
  ),
  paths: z.record(z.string(), bytes),
  waste: z.object({
    wastedBytes: bytes,
    efficiency: z.number().min(0).max(1),
    totalBytes: bytes,
    top: z.array(z.object({ path: z.string(), wastedBytes: bytes, count: z.number().int(), removed: z.boolean() })),
  }),
  startup: startupReportSchema.nullable(),
  contents: contentsReportSchema.optional(),
  checks: z.array(checkSchema),
  summary: z.object({
    passed: z.number().int(),
    warned: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
  }),
  diff: imageDiffSchema.optional(),
  durations: z.record(z.string(), z.number()).optional(),
  build: z
    .object({
      stages: z.array(
        z.object({
          stage: z.string(),
          cached: z.boolean(),
          stepsRun: z.number(),
          stepsCached: z.number(),
          durationMs: z.number(),
        }),
      ),
      context: z
        .object({ transport: z.enum(['session', 'tar']), bytesSent: z.number(), filesSent: z.number() })
        .optional(),
    })
    .optional(),
  reused: z.array(z.enum(['inspect', 'startup', 'smoke'])).optional(),
  engine: z.string().optional(),
  push: z
    .object({
      status: z.enum(['pushed', 'failed', 'skipped']),
      repository: z.string().optional(),
      tags: z.array(
        z.object({
          tag: z.string(),
          digest: z.string(),
          via: z.enum(['engine-push', 'ecr-put-image', 'registry-api', 'unchanged']),
        }),
      ),
      message: z.string().optional(),
      interrupted: z.boolean().optional(),
    })
    .optional(),
  sbom: z
    .object({
      format: z.string(),
      specVersion: z.string(),
      serialNumber: z.string(),
      components: z.number().int().nonnegative(),
      debian: z.number().int().nonnegative(),
      python: z.number().int().nonnegative(),
      files: z.number().int().nonnegative(),
      stored: z.object({ tag: z.string(), digest: z.string() }).optional(),
    })
    .optional(),
});

/** Validates a JSON report (e.g. `gateReportSchema.parse(JSON.parse(text))`). */
export const gateReportSchema: z.ZodType<GateReport> = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: z.string(),
  pass: z.boolean(),
  summary: z.object({
    images: z.number().int(),
    passed: z.number().int(),
    failed: z.number().int(),
    warnings: z.number().int(),
    errors: z.number().int(),
  }),
  baseline: z.object({ generatedAt: z.string(), source: z.string().optional() }).optional(),
  images: z.array(imageReportSchema),
  errors: z.array(
    z.object({ name: z.string(), stage: z.string(), message: z.string(), interrupted: z.boolean().optional() }),
  ),
});

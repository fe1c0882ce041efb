import { z } from 'zod';
import type { DebianPackage } from '../inspect/debian-packages.js';
import type { ImageContents, LayerPathSize } from '../inspect/image-contents.js';
import type { PythonDistribution } from '../inspect/python-distributions.js';
import type { ImportProfile } from '../startup/import-profile.js';

/**
 * The report's view of what an image is made of (`ImageReport.contents`), of its start-up imports
 * (`StartupReport.importProfile`) and of how both changed against a baseline (`ImageDiff.packages`, `.growingPaths`,
 * `.imports`). Types and zod schemas; documented in docs/report-schema.md.
 */

export interface ContentsReport {
  /** Python distributions (`*.dist-info`), largest first. */
  python: PythonDistribution[];
  /** Debian packages (dpkg status), largest first. */
  debian: DebianPackage[];
  /** Per layer, its biggest paths (bytes it provides under each in the final tree); ancestor-closed, bounded. */
  paths: LayerPathSize[];
  botocoreServices?: number;
  sourcesWithoutBytecode: number;
}

/** The serialisable part of `ImageContents` (the standard library's names stay in memory). */
export function contentsReport(contents: ImageContents): ContentsReport {
  return {
    python: contents.python,
    debian: contents.debian,
    paths: contents.paths,
    ...(contents.botocoreServices !== undefined && { botocoreServices: contents.botocoreServices }),
    sourcesWithoutBytecode: contents.sourcesWithoutBytecode,
  };
}

/** A path whose size changed; `before`/`after` null when not listed on that side. */
export interface PathSizeChange {
  path: string;
  before: number | null;
  after: number | null;
  delta: number;
}

/** A distribution or Debian package added, removed or changed (version or size). */
export interface PackageChange {
  kind: 'python' | 'debian';
  name: string;
  change: 'added' | 'removed' | 'changed';
  versionBefore: string | null;
  versionAfter: string | null;
  before: number | null;
  after: number | null;
  delta: number;
  /** The Dockerfile step of the layer that brought it (now; the baseline's for a removed one). */
  layer: string | null;
  /** Its biggest paths (added), the paths that changed most (changed), relative to its location. */
  paths: PathSizeChange[];
}

/** A path of the image that grew (summed over layers), with the step of the layer that brings most of it now. */
export interface PathGrowth extends PathSizeChange {
  layer: string | null;
}

/** Import time of one distribution (self times added up) now and in the baseline. */
export interface ImportChange {
  distribution: string;
  beforeMs: number | null;
  afterMs: number | null;
  deltaMs: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// zod schemas

const bytes = z.number().int().nonnegative();
const nullableBytes = bytes.nullable();

const pythonDistributionSchema: z.ZodType<PythonDistribution> = z.object({
  name: z.string(),
  version: z.string(),
  location: z.string(),
  sizeBytes: bytes,
  fileCount: z.number().int().nonnegative(),
  layer: z.number().int(),
  topPaths: z.array(z.object({ path: z.string(), sizeBytes: bytes })),
  importNames: z.array(z.string()),
  licenseExpression: z.string().optional(),
  licenses: z.array(z.string()).optional(),
});

const debianPackageSchema: z.ZodType<DebianPackage> = z.object({
  name: z.string(),
  version: z.string(),
  architecture: z.string().optional(),
  source: z.string().optional(),
  licenses: z.array(z.string()).optional(),
  sizeBytes: bytes,
  sizeFrom: z.enum(['files', 'installed-size']),
  installedSizeBytes: bytes.optional(),
  fileCount: z.number().int().nonnegative(),
  layer: z.number().int(),
});

export const contentsReportSchema: z.ZodType<ContentsReport> = z.object({
  python: z.array(pythonDistributionSchema),
  debian: z.array(debianPackageSchema),
  paths: z.array(z.object({ layer: z.number().int(), path: z.string(), sizeBytes: bytes })),
  botocoreServices: z.number().int().nonnegative().optional(),
  sourcesWithoutBytecode: z.number().int().nonnegative(),
});

const profiledModuleSchema = z.object({
  module: z.string(),
  distribution: z.string(),
  cumulativeMs: z.number().nonnegative(),
  selfMs: z.number().nonnegative(),
  depth: z.number().int().nonnegative(),
});

export const importProfileSchema: z.ZodType<ImportProfile> = z.object({
  totalMs: z.number().nonnegative(),
  moduleCount: z.number().int().nonnegative(),
  topLevel: z.array(profiledModuleSchema),
  slowest: z.array(profiledModuleSchema),
  byDistribution: z.array(
    z.object({
      distribution: z.string(),
      ms: z.number().nonnegative(),
      modules: z.number().int().nonnegative(),
      entry: z.string(),
      entryCumulativeMs: z.number().nonnegative(),
    }),
  ),
});

const pathSizeChangeSchema = z.object({
  path: z.string(),
  before: nullableBytes,
  after: nullableBytes,
  delta: z.number().int(),
});

export const packageChangeSchema: z.ZodType<PackageChange> = z.object({
  kind: z.enum(['python', 'debian']),
  name: z.string(),
  change: z.enum(['added', 'removed', 'changed']),
  versionBefore: z.string().nullable(),
  versionAfter: z.string().nullable(),
  before: nullableBytes,
  after: nullableBytes,
  delta: z.number().int(),
  layer: z.string().nullable(),
  paths: z.array(pathSizeChangeSchema),
});

export const pathGrowthSchema: z.ZodType<PathGrowth> = pathSizeChangeSchema.extend({ layer: z.string().nullable() });

export const importChangeSchema: z.ZodType<ImportChange> = z.object({
  distribution: z.string(),
  beforeMs: z.number().nullable(),
  afterMs: z.number().nullable(),
  deltaMs: z.number(),
});

import { z } from 'zod';
import { TAG_PATTERN } from '../references/tag-pattern.js';
import { normalizeImagePath } from '../paths/normalize-image-path.js';
import { parseDuration, parseGrowth, parseRatio, parseSize, type GrowthLimit } from '../units/parse-units.js';

/**
 * The zod schema of `images.config.json` (raw, as written) and the normalised domain types it becomes. Units are parsed
 * here, once; everything downstream sees bytes, milliseconds and ratios.
 */

/** `warn` reports without failing the gate; `fail` (the default) fails it. */
export type RuleLevel = 'warn' | 'fail';

/** A budget rule after parsing: a limit with its level, or explicitly switched off (`"off"` / `false`). */
export type Rule = { enabled: true; limit: number; level: RuleLevel } | { enabled: false };

/** The growth rule (vs the baseline report): bytes or percent of the baseline size. */
export type GrowthRule =
  ({ enabled: true; level: RuleLevel; of: 'size' | 'compressedSize' } & GrowthLimit) | { enabled: false };

/** Budgets of one image. A missing key means "not configured" (no check); a rule with `enabled: false` gives `skip`. */
export interface Budgets {
  /** Uncompressed image size, bytes (max). */
  size?: Rule;
  /** Sum of gzip-compressed layer sizes as a registry stores them, bytes (max). */
  compressedSize?: Rule;
  /** Number of layers (max). */
  layers?: Rule;
  /** Container start → ready, median over the runs, ms (max). */
  startupMedian?: Rule;
  /** Container start → ready, 95th percentile (nearest rank), ms (max). */
  startupP95?: Rule;
  /** Bytes of files overwritten or deleted by later layers (max). */
  wastedBytes?: Rule;
  /** 1 − wasted / all layer bytes, in [0, 1] (min). */
  efficiency?: Rule;
  /** Bytes under a path of the final file tree (max), keyed by absolute path. */
  pathSizes: Record<string, Rule>;
  /** Growth against the baseline report (max). */
  growth?: GrowthRule;
}

/** How the startup measurement decides the container is ready. */
export type ReadyProbe =
  { kind: 'healthcheck' } | { kind: 'logPattern'; pattern: string } | { kind: 'command'; command: string[] };

/** Startup measurement settings (defaults applied). */
export interface StartupConfig {
  ready: ReadyProbe;
  runs: number;
  timeoutMs: number;
  env: Record<string, string>;
  network: boolean;
  user?: string;
  readOnly: boolean;
  /** Interval of the image's HEALTHCHECK while measuring (the probe is re-declared on the container). */
  healthcheckIntervalMs: number;
  /** Regex over the container's output with a named group `ms` (or `s`): the in-container process time. */
  processTimePattern?: string;
  /** Overrides the image's CMD for the measurement. */
  cmd?: string[];
}

/** Structure checks (see budgets/check-structure.ts). */
export interface StructureConfig {
  /** `config`: the image config's User is not root; `runtime`: PID 1 runs as non-root (measured during startup). */
  nonRoot?: 'config' | 'runtime' | false;
  healthcheck?: boolean;
  absentPaths: string[];
  presentPaths: string[];
  /** The exact set of botocore data services expected in the image (sorted, unique). */
  botocoreServices?: string[];
  /** No credentials in ENV, labels or history (on unless `false`). */
  noSecrets: boolean;
}

/** One image of the config, normalised: paths absolute, defaults merged, units parsed. */
export interface ImageConfig {
  name: string;
  description?: string;
  /** Absolute path of the Dockerfile (written relative to the config file's directory). */
  dockerfile: string;
  /** Absolute path of the build context (written relative to the config file's directory). */
  context: string;
  target?: string;
  pipeline: 'docker' | 'worker';
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  repository?: string;
  tags?: string[];
  /** Passed unchanged to @4pass/optimizer's `parseProfile`. */
  optimizer?: Record<string, unknown>;
  /** Absolute path of the image's Python source; the worker pipeline scans it for boto3 clients the profile trims. */
  sourceDir?: string;
  startup?: StartupConfig;
  /** Paths whose sizes are measured (configured `paths` plus the keys of `budgets.pathSizes`). */
  paths: string[];
  budgets: Budgets;
  structure: StructureConfig;
}

export interface RegistryConfig {
  host?: string;
  region?: string;
  accountId?: string;
}

/** The whole `images.config.json`, normalised. */
export interface ImagesConfig {
  /** Absolute path of the file it was read from (or the name given to `parseConfig`). */
  file: string;
  registry?: RegistryConfig;
  images: ImageConfig[];
}

// ---------------------------------------------------------------------------------------------------------------------
// raw schema pieces

type Kind = 'size' | 'duration' | 'count' | 'ratio';

const parsers: Record<Kind, (v: string | number) => number> = {
  size: parseSize,
  duration: parseDuration,
  ratio: parseRatio,
  count: (v) => {
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`expected a whole number >= 0, got ${JSON.stringify(v)}`);
    return n;
  },
};

const examples: Record<Kind, string> = {
  size: '"180MB"',
  duration: '"1.5s"',
  count: '20',
  ratio: '0.9 or "90%"',
};

type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, message: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path });
}

function ruleLevel(value: unknown, ctx: Ctx): RuleLevel | undefined {
  if (value === undefined) return 'fail';
  if (value === 'warn' || value === 'fail') return value;
  issue(ctx, `level must be "warn" or "fail", got ${JSON.stringify(value)}`, ['level']);
  return undefined;
}

function parseLimit(kind: Kind, value: unknown, ctx: Ctx, path: (string | number)[]): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issue(ctx, `expected a limit such as ${examples[kind]}, got ${JSON.stringify(value)}`, path);
    return undefined;
  }
  try {
    return parsers[kind](value);
  } catch (e) {
    issue(ctx, (e as Error).message, path);
    return undefined;
  }
}

/** A rule: a limit (`"180MB"`), `{ limit, level }`, or `"off"` / `false`. */
function rule(kind: Kind) {
  return z.unknown().transform((value, ctx): Rule => {
    if (value === 'off' || value === false) return { enabled: false };
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (k !== 'limit' && k !== 'level') issue(ctx, `unknown key "${k}" (a rule has limit and level)`, [k]);
      const level = ruleLevel(o.level, ctx);
      if (o.limit === 'off' || o.limit === false) return { enabled: false };
      const limit = parseLimit(kind, o.limit, ctx, ['limit']);
      return limit === undefined || level === undefined ? z.NEVER : { enabled: true, limit, level };
    }
    if (value === true) {
      issue(
        ctx,
        `expected a limit such as ${examples[kind]}, "off" or { "limit": …, "level": "warn" }; true is not a limit`,
      );
      return z.NEVER;
    }
    const limit = parseLimit(kind, value, ctx, []);
    return limit === undefined ? z.NEVER : { enabled: true, limit, level: 'fail' };
  });
}

const growthRule = z.unknown().transform((value, ctx): GrowthRule => {
  if (value === 'off' || value === false) return { enabled: false };
  let raw: unknown = value;
  let level: RuleLevel | undefined = 'fail';
  let of: 'size' | 'compressedSize' = 'size';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!['limit', 'level', 'of'].includes(k)) issue(ctx, `unknown key "${k}" (growth has limit, level and of)`, [k]);
    level = ruleLevel(o.level, ctx);
    if (o.of !== undefined && o.of !== 'size' && o.of !== 'compressedSize')
      issue(ctx, `of must be "size" or "compressedSize"`, ['of']);
    else if (o.of) of = o.of;
    raw = o.limit;
    if (raw === 'off' || raw === false) return { enabled: false };
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    issue(
      ctx,
      `expected a growth limit such as "5%" or "10MB", got ${JSON.stringify(raw)}`,
      raw === value ? [] : ['limit'],
    );
    return z.NEVER;
  }
  try {
    const limit = parseGrowth(raw);
    return level === undefined ? z.NEVER : { enabled: true, level, of, ...limit };
  } catch (e) {
    issue(ctx, (e as Error).message, raw === value ? [] : ['limit']);
    return z.NEVER;
  }
});

const absPath = z
  .string()
  .refine((p) => p.startsWith('/'), { message: 'must be an absolute path inside the image (start with "/")' })
  .transform(normalizeImagePath);

const sizeOrNumber = (kind: Kind) =>
  z.unknown().transform((value, ctx): number => {
    const n = parseLimit(kind, value, ctx, []);
    return n === undefined ? z.NEVER : n;
  });

const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid regular expression' },
);

const budgetsSchema = z
  .object({
    size: rule('size').optional(),
    compressedSize: rule('size').optional(),
    layers: rule('count').optional(),
    startupMedian: rule('duration').optional(),
    startupP95: rule('duration').optional(),
    wastedBytes: rule('size').optional(),
    efficiency: rule('ratio').optional(),
    pathSizes: z.record(absPath, rule('size')).optional(),
    growth: growthRule.optional(),
  })
  .strict();

const startupSchema = z
  .object({
    ready: z
      .object({
        healthcheck: z.literal(true).optional(),
        logPattern: regexString.optional(),
        command: z.array(z.string()).min(1).optional(),
      })
      .strict()
      .optional(),
    runs: z.number().int().min(1).max(100).optional(),
    timeout: sizeOrNumber('duration').optional(),
    env: z.record(z.string(), z.string()).optional(),
    network: z.boolean().optional(),
    user: z.string().min(1).optional(),
    readOnly: z.boolean().optional(),
    healthcheckInterval: sizeOrNumber('duration').optional(),
    processTimePattern: regexString
      .refine((s) => /\(\?<(ms|s)>/.test(s), { message: 'needs a named group (?<ms>…) or (?<s>…)' })
      .optional(),
    cmd: z.array(z.string()).min(1).optional(),
  })
  .strict();

const structureSchema = z
  .object({
    nonRoot: z.union([z.boolean(), z.enum(['config', 'runtime'])]).optional(),
    healthcheck: z.boolean().optional(),
    absentPaths: z.array(absPath).optional(),
    presentPaths: z.array(absPath).optional(),
    botocoreServices: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'is not a botocore service name')).optional(),
    noSecrets: z.boolean().optional(),
  })
  .strict();

const imageSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9._-]*$/,
        'use lowercase letters, digits, ".", "_" and "-" (start with a letter or digit)',
      ),
    description: z.string().optional(),
    dockerfile: z.string().min(1),
    context: z.string().min(1),
    target: z.string().min(1).optional(),
    pipeline: z.enum(['docker', 'worker']).optional(),
    buildArgs: z.record(z.string(), z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    repository: z
      .string()
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, 'is not a valid repository name')
      .optional(),
    tags: z.array(z.string().regex(TAG_PATTERN, 'is not a valid tag')).optional(),
    optimizer: z.record(z.string(), z.unknown()).optional(),
    sourceDir: z.string().min(1).optional(),
    startup: startupSchema.optional(),
    paths: z.array(absPath).optional(),
    budgets: budgetsSchema.optional(),
    structure: structureSchema.optional(),
  })
  .strict();

/** The raw schema of `images.config.json` (before defaults are merged and paths resolved). */
export const imagesConfigSchema = z
  .object({
    $schema: z.string().optional(),
    registry: z
      .object({
        host: z.string().min(1).optional(),
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'is not an AWS region')
          .optional(),
        accountId: z
          .string()
          .regex(/^\d{12}$/, 'must be 12 digits')
          .optional(),
      })
      .strict()
      .optional(),
    defaults: z
      .object({
        budgets: budgetsSchema.optional(),
        structure: structureSchema.optional(),
        startup: startupSchema.optional(),
      })
      .strict()
      .optional(),
    images: z.array(imageSchema).min(1, 'list at least one image'),
  })
  .strict();

export type RawImagesConfig = z.output<typeof imagesConfigSchema>;
export type RawImageConfig = z.output<typeof imageSchema>;

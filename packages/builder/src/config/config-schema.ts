import { z } from 'zod';
import { TAG_PATTERN } from '../references/tag-pattern.js';
import { absPath, growthRule, regexString, rule, valueOf } from './rule-schema.js';

import type {
  Budgets,
  EngineConfig,
  ImageConfig,
  ImagesConfig,
  StartupConfig,
  StructureConfig,
} from './config-types.js';

/**
 * The zod schema of `images.config.json`, typed against the declared config types (config-types.ts). Each section is
 * validated where it is written (units parsed, paths normalised); the final transform merges `defaults` into each image
 * and applies the defaults of absent keys. A new key is one line in its section here (plus one in `*_DEFAULTS` when it has a default).
 * Checks across sections (duplicate names, a `ready` probe, files on disk) are in check-config.ts.
 */

const budgetsSchema = z
  .object({
    /** Uncompressed image size, bytes (max). */
    size: rule('size').optional(),
    /** Sum of gzip-compressed layer sizes as a registry stores them, bytes (max). */
    compressedSize: rule('size').optional(),
    /** Number of layers (max). */
    layers: rule('count').optional(),
    /** Container start → ready, median over the runs, ms (max). */
    startupMedian: rule('duration').optional(),
    /** Container start → ready, 95th percentile (nearest rank), ms (max). */
    startupP95: rule('duration').optional(),
    /** Bytes of files overwritten or deleted by later layers (max). */
    wastedBytes: rule('size').optional(),
    /** 1 − wasted / all layer bytes, in [0, 1] (min). */
    efficiency: rule('ratio').optional(),
    /** Bytes under a path of the final file tree (max), keyed by absolute path. */
    pathSizes: z.record(absPath, rule('size')).optional(),
    /** Growth against the baseline report (max). */
    growth: growthRule.optional(),
  })
  .strict();

const READY_KINDS = ['healthcheck', 'logPattern', 'command'] as const;
const READY_HINT = 'give exactly one of { "healthcheck": true }, { "logPattern": "…" } or { "command": […] }';

/** How the startup measurement decides the container is ready: exactly one probe. */
const readySchema = z
  .object({
    healthcheck: z.literal(true).optional(),
    logPattern: regexString.optional(),
    command: z.array(z.string()).min(1).optional(),
  })
  .strict()
  .transform((r, ctx) => {
    const kinds = READY_KINDS.filter((k) => r[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `${READY_HINT}${kinds.length > 1 ? ` (got ${kinds.join(', ')})` : ''}` });
      return z.NEVER;
    }
    if (r.logPattern !== undefined) return { kind: 'logPattern' as const, pattern: r.logPattern };
    if (r.command !== undefined) return { kind: 'command' as const, command: r.command };
    return { kind: 'healthcheck' as const };
  });

const startupSchema = z
  .object({
    ready: readySchema.optional(),
    runs: z.number().int().min(1).max(100).optional(),
    /** Per run, start → ready (default 60 s). */
    timeout: valueOf('duration').optional(),
    env: z.record(z.string(), z.string()).optional(),
    network: z.boolean().optional(),
    user: z.string().min(1).optional(),
    readOnly: z.boolean().optional(),
    /** Interval of the image's HEALTHCHECK while measuring (the probe is re-declared on the container). */
    healthcheckInterval: valueOf('duration').optional(),
    /** Regex over the container's output with a named group `ms` (or `s`): the in-container process time. */
    processTimePattern: regexString
      .refine((s) => /\(\?<(ms|s)>/.test(s), { message: 'needs a named group (?<ms>…) or (?<s>…)' })
      .optional(),
    /** Overrides the image's CMD for the measurement. */
    cmd: z.array(z.string()).min(1).optional(),
  })
  .strict();

const STARTUP_DEFAULTS = { runs: 5, env: {}, network: false, readOnly: true };
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_HEALTHCHECK_INTERVAL_MS = 100;

const structureSchema = z
  .object({
    /** `config`: the image config's User is not root; `runtime`: PID 1 runs as non-root (measured during startup). */
    nonRoot: z.union([z.boolean(), z.enum(['config', 'runtime'])]).optional(),
    healthcheck: z.boolean().optional(),
    absentPaths: z.array(absPath).optional(),
    presentPaths: z.array(absPath).optional(),
    /** The exact set of botocore data services expected in the image. */
    botocoreServices: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'is not a botocore service name')).optional(),
    /** No credentials in ENV, labels or history (on unless `false`). */
    noSecrets: z.boolean().optional(),
    /**
     * Every ELF file belongs to a package a scanner can see (dpkg's database, a dist-info); default on for images
     * whose final stage is `FROM scratch`.
     */
    scannerVisible: z.boolean().optional(),
  })
  .strict();

const sbomSchema = z
  .object({
    /** The application's own files: every regular file under these paths is listed in the SBOM with its SHA-256. */
    files: z.array(absPath).default([]),
  })
  .strict();

const cacheRepository = z
  .string()
  .regex(
    /^[a-z0-9.-]+(?::\d+)?\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/,
    'use HOST[:PORT]/REPOSITORY without a tag, e.g. 127.0.0.1:5000/4pass/api-cache',
  );

const imageSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9._-]*$/,
        'use lowercase letters, digits, ".", "_" and "-" (start with a letter or digit)',
      ),
    description: z.string().optional(),
    /** The Dockerfile, relative to the config file's directory (absolute once loaded). */
    dockerfile: z.string().min(1),
    /** The build context directory, relative to the config file's directory (absolute once loaded). */
    context: z.string().min(1),
    target: z.string().min(1).optional(),
    pipeline: z.enum(['docker', 'worker']).default('docker'),
    buildArgs: z.record(z.string(), z.string()).default({}),
    /** Credential-looking build args accepted anyway (their values are redacted from every output). */
    allowSecretBuildArgs: z.array(z.string().min(1)).default([]),
    labels: z.record(z.string(), z.string()).default({}),
    repository: z
      .string()
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, 'is not a valid repository name')
      .optional(),
    tags: z.array(z.string().regex(TAG_PATTERN, 'is not a valid tag')).optional(),
    /**
     * A registry build cache (BuildKit's inline cache): `from` repositories are read, `to` is written (tagged per
     * built stage, `<to>:<stage>`, pushed with the image). Full repositories without a tag, e.g.
     * `127.0.0.1:5000/4pass/api-cache`.
     */
    cache: z
      .object({ from: z.array(cacheRepository).default([]), to: cacheRepository.optional() })
      .strict()
      .optional(),
    /** Passed unchanged to @4pass/optimizer's `parseProfile`. */
    optimizer: z.record(z.string(), z.unknown()).optional(),
    /** The image's Python source (relative like `context`); the worker pipeline scans it for boto3 clients. */
    sourceDir: z.string().min(1).optional(),
    startup: startupSchema.optional(),
    /** Paths whose sizes are measured (the keys of `budgets.pathSizes` are added). */
    paths: z.array(absPath).optional(),
    /** What the image's SBOM (CycloneDX) lists besides its packages. */
    sbom: sbomSchema.prefault({}),
    budgets: budgetsSchema.optional(),
    structure: structureSchema.optional(),
  })
  .strict();

const defaultsSchema = z
  .object({
    budgets: budgetsSchema.optional(),
    structure: structureSchema.optional(),
    startup: startupSchema.optional(),
  })
  .strict();

const registrySchema = z
  .object({
    /** `host[:port]` of any registry. */
    host: z.string().min(1).optional(),
    /** Amazon ECR: the region (default `AWS_REGION`); the registry host comes from the authorization token. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'is not an AWS region')
      .optional(),
    /** Amazon ECR: another account's registry (cross-account pushes). */
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be 12 digits')
      .optional(),
  })
  .strict();

/** One engine of the pool: images are spread over the engines, each built and measured on one. */
const engineSchema: z.ZodType<EngineConfig> = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
    /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`. */
    host: z.string().regex(/^(unix|tcp|ssh):\/\/.+/, 'use unix://PATH, tcp://HOST[:PORT] or ssh://[USER@]HOST[:PORT]'),
    /** Directory with ca.pem, cert.pem and key.pem (relative to the config file); tcp:// only. */
    certPath: z.string().min(1).optional(),
    /** Verify the engine's certificate (default true). */
    tlsVerify: z.boolean().optional(),
  })
  .strict();

/** A build secret's source: exactly one of an environment variable or a file (relative like `context`). */
const secretSourceSchema = z.union(
  [
    z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name') }).strict(),
    z.object({ file: z.string().min(1) }).strict(),
  ],
  { error: 'give exactly one of { "env": "NAME" } or { "file": "path" }' },
);

/**
 * Bounds of every network wait (registry API, the engine's pushes, engine requests). Defaults: registry answers
 * within 30 s, engine answers within 60 s, a push stream or response body silent for at most 60 s / 30 s, 3 retries.
 */
const networkSchema = z
  .object({
    /** Until an answer starts: registry API requests and engine requests. */
    requestTimeout: valueOf('duration').optional(),
    /** Longest silence of the engine's push stream and of a registry response body. */
    idleTimeout: valueOf('duration').optional(),
    /** Retries of a transient registry failure (5xx, dropped connection, timeout), with exponential backoff. */
    retries: z.number().int().min(0).max(10).optional(),
  })
  .strict();

/** Build secrets by id, for `RUN --mount=type=secret,id=<id>`. */
const secretsSchema = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'is not a secret id (letters, digits, ".", "_", "-")'),
  secretSourceSchema,
);

type ImageInput = z.output<typeof imageSchema>;
type Defaults = z.output<typeof defaultsSchema>;

const configSchema = z
  .object({
    $schema: z.string().optional(),
    registry: registrySchema.optional(),
    /** The engine pool (default: the one engine of DOCKER_HOST / the context / the local socket). */
    engines: z.array(engineSchema).min(1, 'list at least one engine, or leave "engines" out').optional(),
    /** Build secrets every image's build may mount (`RUN --mount=type=secret,id=<id>`); never build args. */
    secrets: secretsSchema.default({}),
    network: networkSchema.default({}),
    defaults: defaultsSchema.default({}),
    images: z.array(imageSchema).min(1, 'list at least one image'),
  })
  .strict()
  .transform(({ registry, engines, secrets, network, defaults, images }) => ({
    ...(registry && { registry }),
    ...(engines && { engines }),
    secrets,
    network,
    images: images.map((image) => resolveImage(image, defaults)),
  }));

/** True only when A and B are the same type (each assignable to the other, optional keys included). */
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? keyof A extends keyof B
      ? keyof B extends keyof A
        ? true
        : false
      : false
    : false
  : false;
/** The schema's output fits the declared type both ways (its top-level keys exactly): they cannot drift apart unseen. */
const sameShape: Same<z.output<typeof configSchema>, Omit<ImagesConfig, 'file'>> = true;
/** The schema of `images.config.json`: validates as written, then merges `defaults` into every image. */
export const imagesConfigSchema: z.ZodType<Omit<ImagesConfig, 'file'>> = sameShape && configSchema;

function resolveImage(
  { budgets: ownBudgets, startup: ownStartup, structure: ownStructure, ...image }: ImageInput,
  defaults: Defaults,
): ImageConfig {
  const budgets: Budgets = {
    ...defaults.budgets,
    ...ownBudgets,
    pathSizes: { ...defaults.budgets?.pathSizes, ...ownBudgets?.pathSizes },
  };
  const startup = resolveStartup(defaults.startup, ownStartup);
  return {
    ...image,
    ...(startup && { startup }),
    /** Paths whose sizes are measured: `paths` plus the keys of `budgets.pathSizes`. */
    paths: unique([...(image.paths ?? []), ...Object.keys(budgets.pathSizes)]),
    budgets,
    structure: resolveStructure(defaults.structure, ownStructure),
  };
}

type StartupInput = z.output<typeof startupSchema>;

/** Image settings override the defaults' (env is merged); absent keys get their defaults. No `ready`: no startup. */
function resolveStartup(defaults: StartupInput | undefined, own: StartupInput | undefined): StartupConfig | undefined {
  if (!defaults && !own) return undefined;
  const { ready, timeout, healthcheckInterval, ...rest } = { ...defaults, ...own };
  if (!ready) return undefined; // reported by checkConfig
  return {
    ...STARTUP_DEFAULTS,
    ...rest,
    env: { ...defaults?.env, ...own?.env },
    ready,
    timeoutMs: timeout ?? DEFAULT_TIMEOUT_MS,
    healthcheckIntervalMs: healthcheckInterval ?? DEFAULT_HEALTHCHECK_INTERVAL_MS,
  };
}

type StructureInput = z.output<typeof structureSchema>;

/** Scalars: the image's win. Path lists add up (the defaults' apply to every image). */
function resolveStructure(defaults: StructureInput = {}, own: StructureInput = {}): StructureConfig {
  const { nonRoot, botocoreServices, ...rest } = { ...defaults, ...own };
  return {
    ...rest,
    ...(nonRoot !== undefined && { nonRoot: nonRoot === true ? ('config' as const) : nonRoot }),
    absentPaths: unique([...(defaults.absentPaths ?? []), ...(own.absentPaths ?? [])]),
    presentPaths: unique([...(defaults.presentPaths ?? []), ...(own.presentPaths ?? [])]),
    ...(botocoreServices && { botocoreServices: unique(botocoreServices).sort() }),
    noSecrets: rest.noSecrets ?? true,
  };
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

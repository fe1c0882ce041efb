import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import {
  imagesConfigSchema,
  type Budgets,
  type ImageConfig,
  type ImagesConfig,
  type RawImagesConfig,
  type ReadyProbe,
  type StartupConfig,
  type StructureConfig,
} from './config-schema.js';

/** The file `pnpm build:images` reads by default, at the repository root. */
export const DEFAULT_CONFIG_FILE = 'images.config.json';

const DEFAULT_RUNS = 5;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_HEALTHCHECK_INTERVAL_MS = 100;

export interface ParseConfigOptions {
  /** Directory that relative `dockerfile` / `context` paths are resolved against; default: the file's directory. */
  baseDir?: string;
}

export interface LoadConfigOptions extends ParseConfigOptions {
  /** Check that every Dockerfile and context exists (reported with the other problems). Default true. */
  checkFiles?: boolean;
}

type Issue = { path: string; message: string };

/**
 * Reads and validates an images config file (JSON). Every problem — syntax, schema, units, duplicate names, missing
 * Dockerfiles or contexts — is collected and thrown together.
 * @throws {ConfigError} with `file` and `issues` (each with a path such as `images[1].budgets.size`).
 */
export async function loadConfig(file: string, options: LoadConfigOptions = {}): Promise<ImagesConfig> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(abs, [
      { path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}` },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(abs, [{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  const config = parseConfigInternal(json, abs, options);
  const issues = [...config.issues];
  if (options.checkFiles !== false && config.value) {
    await Promise.all(
      config.value.images.map(async (image, i) => {
        for (const [key, want] of [
          ['dockerfile', 'file'],
          ['context', 'directory'],
          ['sourceDir', 'directory'],
        ] as const) {
          const p = image[key];
          if (p === undefined) continue;
          const st = await stat(p).catch(() => undefined);
          if (!st) issues.push({ path: `images[${i}].${key}`, message: `${want} not found: ${p}` });
          else if (want === 'file' ? !st.isFile() : !st.isDirectory())
            issues.push({ path: `images[${i}].${key}`, message: `not a ${want}: ${p}` });
        }
      }),
    );
  }
  if (issues.length > 0 || !config.value) throw new ConfigError(abs, sortIssues(issues));
  return config.value;
}

/**
 * Validates an already-parsed config object. `file` names it in errors and, unless `baseDir` is given, is the file
 * whose directory relative paths are resolved against.
 * @throws {ConfigError} listing every problem with its path.
 */
export function parseConfig(input: unknown, file: string, options: ParseConfigOptions = {}): ImagesConfig {
  const { value, issues } = parseConfigInternal(input, file, options);
  if (issues.length > 0 || !value) throw new ConfigError(file, sortIssues(issues));
  return value;
}

function parseConfigInternal(
  input: unknown,
  file: string,
  options: ParseConfigOptions,
): { value?: ImagesConfig; issues: Issue[] } {
  const parsed = imagesConfigSchema.safeParse(input);
  if (!parsed.success) return { issues: parsed.error.issues.map(toIssue) };
  const raw = parsed.data;
  const baseDir = options.baseDir ?? dirname(resolve(file));
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  const images = raw.images.map((img, i): ImageConfig => {
    const at = `images[${i}]`;
    const first = seen.get(img.name);
    if (first !== undefined)
      issues.push({ path: `${at}.name`, message: `duplicate image name "${img.name}" (also images[${first}])` });
    else seen.set(img.name, i);
    const budgets = mergeBudgets(raw.defaults?.budgets, img.budgets);
    const startup = mergeStartup(raw.defaults?.startup, img.startup, `${at}.startup`, issues);
    const structure = mergeStructure(raw.defaults?.structure, img.structure);
    if (structure.nonRoot === 'runtime' && !startup) {
      issues.push({
        path: `${at}.structure.nonRoot`,
        message: '"runtime" is measured during the startup run; configure startup (with ready) too',
      });
    }
    const paths = unique([...(img.paths ?? []), ...Object.keys(budgets.pathSizes)]);
    return {
      name: img.name,
      ...(img.description !== undefined && { description: img.description }),
      dockerfile: resolve(baseDir, img.dockerfile),
      context: resolve(baseDir, img.context),
      ...(img.target !== undefined && { target: img.target }),
      pipeline: img.pipeline ?? 'docker',
      buildArgs: img.buildArgs ?? {},
      labels: img.labels ?? {},
      ...(img.repository !== undefined && { repository: img.repository }),
      ...(img.tags !== undefined && { tags: img.tags }),
      ...(img.optimizer !== undefined && { optimizer: img.optimizer }),
      ...(img.sourceDir !== undefined && { sourceDir: resolve(baseDir, img.sourceDir) }),
      ...(startup && { startup }),
      paths,
      budgets,
      structure,
    };
  });
  if (issues.length > 0) return { issues };
  return {
    value: {
      file,
      ...(raw.registry && { registry: raw.registry }),
      images,
    },
    issues,
  };
}

type RawBudgets = NonNullable<RawImagesConfig['images'][number]['budgets']>;
type RawStartup = NonNullable<RawImagesConfig['images'][number]['startup']>;
type RawStructure = NonNullable<RawImagesConfig['images'][number]['structure']>;

function mergeBudgets(defaults: RawBudgets | undefined, own: RawBudgets | undefined): Budgets {
  const merged = { ...stripUndefined(defaults ?? {}), ...stripUndefined(own ?? {}) };
  return { ...merged, pathSizes: { ...defaults?.pathSizes, ...own?.pathSizes } } as Budgets;
}

function mergeStructure(defaults: RawStructure | undefined, own: RawStructure | undefined): StructureConfig {
  const m = { ...stripUndefined(defaults ?? {}), ...stripUndefined(own ?? {}) } as RawStructure;
  const nonRoot = m.nonRoot === true ? 'config' : m.nonRoot;
  return {
    ...(nonRoot !== undefined && { nonRoot }),
    ...(m.healthcheck !== undefined && { healthcheck: m.healthcheck }),
    // Path lists add up: the defaults' paths apply to every image, the image adds its own.
    absentPaths: unique([...(defaults?.absentPaths ?? []), ...(own?.absentPaths ?? [])]),
    presentPaths: unique([...(defaults?.presentPaths ?? []), ...(own?.presentPaths ?? [])]),
    ...(m.botocoreServices && { botocoreServices: unique(m.botocoreServices).sort() }),
    noSecrets: m.noSecrets ?? true,
  };
}

function mergeStartup(
  defaults: RawStartup | undefined,
  own: RawStartup | undefined,
  at: string,
  issues: Issue[],
): StartupConfig | undefined {
  if (!defaults && !own) return undefined;
  const m = { ...stripUndefined(defaults ?? {}), ...stripUndefined(own ?? {}) } as RawStartup;
  const env = { ...defaults?.env, ...own?.env };
  let ready: ReadyProbe | undefined;
  const r = m.ready;
  const kinds = r ? (['healthcheck', 'logPattern', 'command'] as const).filter((k) => r[k] !== undefined) : [];
  if (!r || kinds.length !== 1) {
    issues.push({
      path: `${at}.ready`,
      message: `give exactly one of { "healthcheck": true }, { "logPattern": "…" } or { "command": […] }${kinds.length > 1 ? ` (got ${kinds.join(', ')})` : ''}`,
    });
    return undefined;
  }
  if (r.logPattern !== undefined) ready = { kind: 'logPattern', pattern: r.logPattern };
  else if (r.command !== undefined) ready = { kind: 'command', command: r.command };
  else ready = { kind: 'healthcheck' };
  return {
    ready,
    runs: m.runs ?? DEFAULT_RUNS,
    timeoutMs: m.timeout ?? DEFAULT_TIMEOUT_MS,
    env,
    network: m.network ?? false,
    ...(m.user !== undefined && { user: m.user }),
    readOnly: m.readOnly ?? true,
    healthcheckIntervalMs: m.healthcheckInterval ?? DEFAULT_HEALTHCHECK_INTERVAL_MS,
    ...(m.processTimePattern !== undefined && { processTimePattern: m.processTimePattern }),
    ...(m.cmd !== undefined && { cmd: m.cmd }),
  };
}

function toIssue(i: z.core.$ZodIssue): Issue {
  let message = i.message;
  if (i.code === 'unrecognized_keys')
    message = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  if (i.code === 'invalid_key') message = `key ${i.issues.map((k) => k.message).join('; ')}`;
  return { path: formatPath(i.path), message };
}

/** `['images', 1, 'budgets', 'size']` → `images[1].budgets.size`; path segments that are not identifiers are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function sortIssues(issues: Issue[]): Issue[] {
  return [...issues].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError } from '../errors/config-error.js';
import { checkConfig, checkConfigFiles, type ConfigIssue } from './check-config.js';
import { imagesConfigSchema } from './config-schema.js';
import type { ImageConfig, ImagesConfig } from './config-types.js';

/** The file `pnpm build:images` reads by default, at the repository root. */
export const DEFAULT_CONFIG_FILE = 'images.config.json';

export interface ParseConfigOptions {
  /** Directory that relative `dockerfile` / `context` paths are resolved against; default: the file's directory. */
  baseDir?: string;
}

export interface LoadConfigOptions extends ParseConfigOptions {
  /** Check that every Dockerfile and context exists (reported with the other problems). Default true. */
  checkFiles?: boolean;
}

/**
 * Reads and validates an images config file (JSON). Every problem — syntax (with line and column), schema, units,
 * duplicate names, missing Dockerfiles, contexts or source directories — is collected and thrown together.
 * @throws {ConfigError} with `file` and `issues` (each with a path such as `images[1].budgets.size`).
 */
export async function loadConfig(file: string, options: LoadConfigOptions = {}): Promise<ImagesConfig> {
  const abs = resolve(file);
  const json = parseJson(await readConfigFile(abs), abs);
  const baseDir = options.baseDir ?? dirname(abs);
  const fileIssues = options.checkFiles === false ? [] : await checkConfigFiles(json, baseDir);
  return validate(json, abs, baseDir, fileIssues);
}

/**
 * Validates an already-parsed config object. `file` names it in errors and, unless `baseDir` is given, is the file
 * whose directory relative paths are resolved against. Files on disk are not checked.
 * @throws {ConfigError} listing every problem with its path.
 */
export function parseConfig(input: unknown, file: string, options: ParseConfigOptions = {}): ImagesConfig {
  return validate(input, file, options.baseDir ?? dirname(resolve(file)), []);
}

function validate(input: unknown, file: string, baseDir: string, fileIssues: ConfigIssue[]): ImagesConfig {
  const parsed = imagesConfigSchema.safeParse(input);
  const issues = [...(parsed.success ? [] : parsed.error.issues.map(toIssue)), ...checkConfig(input), ...fileIssues];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(file, sortIssues(issues));
  const engines = parsed.data.engines?.map((engine) =>
    engine.certPath ? { ...engine, certPath: resolve(baseDir, engine.certPath) } : engine,
  );
  const secrets = Object.fromEntries(
    Object.entries(parsed.data.secrets).map(([id, source]) => [
      id,
      'file' in source ? { file: resolve(baseDir, source.file) } : source,
    ]),
  );
  return {
    file,
    ...parsed.data,
    ...(engines && { engines }),
    secrets,
    images: parsed.data.images.map((image) => resolvePaths(image, baseDir)),
  };
}

function resolvePaths(image: ImageConfig, baseDir: string): ImageConfig {
  return {
    ...image,
    dockerfile: resolve(baseDir, image.dockerfile),
    context: resolve(baseDir, image.context),
    ...(image.sourceDir !== undefined && { sourceDir: resolve(baseDir, image.sourceDir) }),
  };
}

async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a config file'
          : `cannot read: ${(e as Error).message}`;
    throw new ConfigError(file, [{ path: '', message }]);
  }
}

/** `JSON.parse`, with syntax errors located by line and column (V8 gives a character position at best). */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
    const first = errors[0];
    const detail = (e as Error).message.replace(/ in JSON at position \d+.*$|, ".*" is not valid JSON$/s, '');
    const where = first ? ` at line ${lineColumn(text, first.offset)}` : '';
    throw new ConfigError(file, [{ path: '', message: `not valid JSON${where}: ${detail}` }]);
  }
}

/** `3, column 7` for an offset into `text` (1-based, like editors). */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function toIssue(i: z.core.$ZodIssue): ConfigIssue {
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

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
}

/**
 * `--cache-from PREFIX` / `--cache-to PREFIX` for every image: each reads (and writes) its registry build cache at
 * `PREFIX/<image>`, replacing the config's `cache`. No flags: the config as it is.
 */
export function withCacheOverrides(
  config: ImagesConfig,
  flags: { from?: readonly string[]; to?: string },
): ImagesConfig {
  if (!flags.from?.length && flags.to === undefined) return config;
  const { from = [], to } = flags;
  return {
    ...config,
    images: config.images.map((image) => ({
      ...image,
      cache: { from: from.map((p) => `${p}/${image.name}`), ...(to && { to: `${to}/${image.name}` }) },
    })),
  };
}

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findSecretBuildArgs } from '../secrets/secret-build-args.js';
import { SECRETS_ADVICE } from '../secrets/secret-errors.js';
import { describeSecretPattern } from '../secrets/scan-secrets.js';

/**
 * Checks across sections of `images.config.json`, made on the input as written so that they are reported together
 * with the schema's problems (never one at a time): duplicate image names, a start-up without a `ready` probe,
 * `nonRoot: "runtime"` without a start-up, credential-looking build args not allowed, and Dockerfiles, contexts and
 * source directories missing on disk.
 */

/** One problem with its path, e.g. `{ path: 'images[1].dockerfile', message: 'file not found: /x/D' }`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

type Entry = { at: string; image: Record<string, unknown> };

/** Issues that need more than one section: duplicate names, `ready`, `nonRoot: "runtime"`, secret build args. */
export function checkConfig(input: unknown): ConfigIssue[] {
  return [...checkImages(input), ...images(input).flatMap(secretBuildArgIssues)];
}

function checkImages(input: unknown): ConfigIssue[] {
  const root = record(input);
  const defaults = record(root?.defaults);
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  issues.push(...duplicateEngines(root?.engines));
  for (const { at, image } of images(input)) {
    if (typeof image.name === 'string') {
      const first = seen.get(image.name);
      if (first) issues.push({ path: `${at}.name`, message: `duplicate image name "${image.name}" (also ${first})` });
      else seen.set(image.name, at);
    }
    const startup = record(image.startup) ?? record(defaults?.startup);
    const ready = record(image.startup)?.ready ?? record(defaults?.startup)?.ready;
    if (startup && ready === undefined) {
      issues.push({
        path: `${at}.startup.ready`,
        message: 'give exactly one of { "healthcheck": true }, { "logPattern": "…" } or { "command": […] }',
      });
    }
    const nonRoot = record(image.structure)?.nonRoot ?? record(defaults?.structure)?.nonRoot;
    if (nonRoot === 'runtime' && !startup) {
      issues.push({
        path: `${at}.structure.nonRoot`,
        message: '"runtime" is measured during the startup run; configure startup (with ready) too',
      });
    }
  }
  return issues;
}

/** Build args whose name or value looks like a credential, unless the image allows them by name. */
function secretBuildArgIssues({ at, image }: Entry): ConfigIssue[] {
  const buildArgs = record(image.buildArgs);
  if (!buildArgs) return [];
  const strings = Object.fromEntries(Object.entries(buildArgs).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
  const allowed = Array.isArray(image.allowSecretBuildArgs) ? image.allowSecretBuildArgs : [];
  return findSecretBuildArgs(strings)
    .filter((arg) => !allowed.includes(arg.name))
    .map((arg) => ({
      path: `${at}.buildArgs.${arg.name}`,
      message: `looks like a credential (${describeSecretPattern(arg.pattern)}; value hidden): ${SECRETS_ADVICE}`,
    }));
}

/** Every `dockerfile` (a file), `context` and `sourceDir` (directories), resolved against `baseDir`. */
export async function checkConfigFiles(input: unknown, baseDir: string): Promise<ConfigIssue[]> {
  const wanted = images(input).flatMap(({ at, image }) =>
    (
      [
        ['dockerfile', 'file'],
        ['context', 'directory'],
        ['sourceDir', 'directory'],
      ] as const
    ).flatMap(([key, kind]) => {
      const value = image[key];
      return typeof value === 'string' && value !== ''
        ? [{ path: `${at}.${key}`, file: resolve(baseDir, value), kind }]
        : [];
    }),
  );
  const found = await Promise.all(wanted.map((w) => stat(w.file).catch(() => undefined)));
  return wanted.flatMap((w, i): ConfigIssue[] => {
    const st = found[i];
    if (!st) return [{ path: w.path, message: `${w.kind} not found: ${w.file}` }];
    if (w.kind === 'file' ? !st.isFile() : !st.isDirectory())
      return [{ path: w.path, message: `not a ${w.kind}: ${w.file}` }];
    return [];
  });
}

function images(input: unknown): Entry[] {
  const list = record(input)?.images;
  if (!Array.isArray(list)) return [];
  return list.flatMap((image: unknown, i) => {
    const r = record(image);
    return r ? [{ at: `images[${i}]`, image: r }] : [];
  });
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function duplicateEngines(engines: unknown): ConfigIssue[] {
  if (!Array.isArray(engines)) return [];
  const seen = new Map<string, number>();
  return engines.flatMap((engine: unknown, i) => {
    const name = record(engine)?.name;
    if (typeof name !== 'string') return [];
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    return first === undefined
      ? []
      : [{ path: `engines[${i}].name`, message: `duplicate engine name "${name}" (also engines[${first}])` }];
  });
}

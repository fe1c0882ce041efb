import { readFile } from 'node:fs/promises';
import { BuildSecretError } from './secret-errors.js';

/** Where a build secret's value comes from: an environment variable, or a file (absolute once the config is loaded). */
export type BuildSecretSource = { env: string; file?: undefined } | { file: string; env?: undefined };

/** Secret values by id, and the ids whose source was absent (unset variable, missing file). */
export interface LoadedBuildSecrets {
  values: Record<string, Buffer>;
  missing: { id: string; source: string }[];
}

/** `$NAME` or the file path: how a secret's source is named in messages (never its value). */
export function describeSecretSource(source: BuildSecretSource): string {
  return source.env !== undefined ? `$${source.env}` : (source.file ?? '');
}

/**
 * Reads every configured build secret. An unset (or empty) variable or a missing file is not an error here: the
 * secret is simply not given, so an optional `RUN --mount=type=secret` goes without it and a `required=true` one is
 * refused before the build, naming the source.
 * @throws {BuildSecretError} a secret file that exists but cannot be read.
 */
export async function loadBuildSecrets(
  sources: Readonly<Record<string, BuildSecretSource>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedBuildSecrets> {
  const loaded: LoadedBuildSecrets = { values: {}, missing: [] };
  for (const [id, source] of Object.entries(sources)) {
    const value = source.env !== undefined ? fromEnv(env, source.env) : await fromFile(id, source.file);
    if (value === undefined) loaded.missing.push({ id, source: describeSecretSource(source) });
    else loaded.values[id] = value;
  }
  return loaded;
}

function fromEnv(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : Buffer.from(value);
}

async function fromFile(id: string, file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BuildSecretError(id, file, { cause: error });
  }
}

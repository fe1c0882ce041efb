import { inspect } from 'node:util';
import type { RegistryAuth } from '../engine/engine.js';

/** Credentials, or something that produces them on demand (e.g. an ECR token provider that caches and refreshes). */
export type RegistryAuthSource = RegistryAuth | (() => Promise<RegistryAuth>);

const REDACTED = '***';

function redactedView(auth: RegistryAuth): Record<string, string | undefined> {
  return {
    serveraddress: auth.serveraddress,
    username: auth.username,
    password: auth.password === undefined ? undefined : REDACTED,
    identitytoken: auth.identitytoken === undefined ? undefined : REDACTED,
  };
}

/**
 * Makes a credentials object that redacts its secrets when serialised (`JSON.stringify`, `util.inspect`,
 * `console.log`): the password and identity token read as `***`. The fields themselves stay readable.
 * Hand engines a plain copy (`toEngineAuth`) – `pushImage` does – since an engine serialises what it gets.
 */
export function createRegistryAuth(auth: RegistryAuth): RegistryAuth {
  const copy: RegistryAuth = { ...toEngineAuth(auth) };
  Object.defineProperties(copy, {
    toJSON: { value: () => redactedView(copy), enumerable: false },
    [inspect.custom]: { value: () => redactedView(copy), enumerable: false },
  });
  return copy;
}

/** A plain object with only the fields an engine needs (no redacting `toJSON`): for the `X-Registry-Auth` header. */
export function toEngineAuth(auth: RegistryAuth): RegistryAuth {
  const plain: RegistryAuth = { serveraddress: auth.serveraddress };
  if (auth.username !== undefined) plain.username = auth.username;
  if (auth.password !== undefined) plain.password = auth.password;
  if (auth.identitytoken !== undefined) plain.identitytoken = auth.identitytoken;
  return plain;
}

/**
 * Credentials for a generic registry from `REGISTRY_USERNAME` / `REGISTRY_PASSWORD`, or `undefined` when
 * `REGISTRY_PASSWORD` is not set (the username defaults to `AWS`, as for ECR-style tokens, when only the password is).
 */
export function registryAuthFromEnv(host: string, env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  const password = env.REGISTRY_PASSWORD;
  if (password === undefined || password === '') return undefined;
  return createRegistryAuth({ serveraddress: host, username: env.REGISTRY_USERNAME || 'AWS', password });
}

/** Resolves a `RegistryAuthSource` (calls the provider if it is one). */
export async function resolveRegistryAuth(source: RegistryAuthSource): Promise<RegistryAuth> {
  return typeof source === 'function' ? source() : source;
}

/**
 * Credentials with the password read from a stream (default stdin, as `docker login --password-stdin`): everything
 * up to EOF, one trailing newline removed. Username from the option, `REGISTRY_USERNAME`, else `AWS`.
 */
export async function registryAuthFromStdin(
  host: string,
  options: { username?: string; stdin?: AsyncIterable<Buffer | string>; env?: NodeJS.ProcessEnv } = {},
): Promise<RegistryAuth> {
  let text = '';
  for await (const chunk of options.stdin ?? process.stdin) text += chunk.toString();
  const password = text.replace(/\r?\n$/, '');
  return createRegistryAuth({
    serveraddress: host,
    username: options.username ?? ((options.env ?? process.env).REGISTRY_USERNAME || 'AWS'),
    password,
  });
}

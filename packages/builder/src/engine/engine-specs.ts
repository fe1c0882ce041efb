import { ConfigError } from '../errors/config-error.js';

/** One engine of a pool, as the config's `engines` or `--engine NAME=ADDRESS` give it. */
export interface EngineSpec {
  name: string;
  /** `unix://…`, `tcp://host[:port]`, `ssh://[user@]host[:port]`. */
  host: string;
  /** The directory with ca.pem, cert.pem, key.pem (default: DOCKER_CERT_PATH / DOCKER_TLS_VERIFY as for one engine). */
  certPath?: string;
  /** Verify the engine's certificate (default true when `certPath` is given). */
  tlsVerify?: boolean;
  /** Where the spec came from, for messages: `--engine b`, `images.config.json engines[1]`. */
  source?: string;
}

/**
 * `--engine NAME=ADDRESS` values as engine specs (`b=tcp://10.0.0.5:2376`, `b=ssh://ci@builder`, `b=unix:///…`).
 * @throws {ConfigError} naming every value that is not NAME=ADDRESS, and names given twice.
 */
export function parseEngineSpecs(values: readonly string[], source = '--engine'): EngineSpec[] {
  const issues: { path: string; message: string }[] = [];
  const specs = values.flatMap((value) => {
    const match = /^([a-zA-Z0-9][a-zA-Z0-9._-]*)=((?:unix|tcp|ssh):\/\/.+)$/.exec(value);
    if (match) return [{ name: match[1] as string, host: match[2] as string, source: `${source} ${match[1]}` }];
    issues.push({ path: value, message: 'use NAME=ADDRESS, e.g. b=tcp://10.0.0.5:2376 or b=ssh://ci@builder' });
    return [];
  });
  const names = specs.map((s) => s.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    issues.push({ path: name, message: 'engine names must differ' });
  }
  if (issues.length) throw new ConfigError(source, issues);
  return specs;
}

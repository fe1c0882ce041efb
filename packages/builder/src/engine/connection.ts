import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from './docker-engine.js';
import type { Engine, EngineEndpoint } from './engine.js';
import { ConfigError } from '../errors.js';

export interface ConnectOptions {
  /** An explicit engine address; wins over the environment. */
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** `$DOCKER_CONFIG`, default `~/.docker`. */
  dockerConfigDir?: string;
  /** Ping timeout; default 5 s. */
  timeoutMs?: number;
  /**
   * Deadline of every other engine request until its answer starts (default 60 s), and the longest silence of an
   * image export or archive stream (5 min); builds, pushes and container waits have their own bounds.
   */
  requestTimeoutMs?: number;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Resolves the engine address: explicit option → `DOCKER_HOST` → `DOCKER_CONTEXT` → `currentContext` in
 * `$DOCKER_CONFIG/config.json` → the default socket.
 * @throws {ConfigError} when a named context does not exist or its metadata cannot be read.
 */
export function resolveEngineEndpoint(options: ConnectOptions = {}): EngineEndpoint {
  const env = options.env ?? process.env;
  const configDir = options.dockerConfigDir ?? env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  if (options.host) return fromHost(options.host, 'option', env);
  if (env.DOCKER_HOST) return fromHost(env.DOCKER_HOST, 'DOCKER_HOST', env);
  let contextName = env.DOCKER_CONTEXT;
  let source = `DOCKER_CONTEXT=${contextName}`;
  if (!contextName) {
    const configFile = join(configDir, 'config.json');
    if (existsSync(configFile)) {
      try {
        const config = JSON.parse(readFileSync(configFile, 'utf8')) as { currentContext?: string };
        contextName = config.currentContext;
        source = `context ${contextName} (${configFile})`;
      } catch (error) {
        throw new ConfigError(configFile, [{ path: '', message: `not valid JSON: ${(error as Error).message}` }]);
      }
    }
  }
  if (contextName && contextName !== 'default') return fromContext(configDir, contextName, source, env);
  return { address: `unix://${DEFAULT_SOCKET}`, source: 'default', socketPath: DEFAULT_SOCKET };
}

function fromHost(host: string, source: string, env: NodeJS.ProcessEnv, tls?: EngineEndpoint['tls']): EngineEndpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || DEFAULT_SOCKET;
    return { address: `unix://${socketPath}`, source, socketPath };
  }
  const url = new URL(host.includes('://') ? host : `tcp://${host}`);
  if (url.protocol === 'ssh:') {
    return {
      address: host,
      source,
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || '22',
      username: url.username || undefined,
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(source, [
      { path: source, message: `unsupported engine address ${host} (use unix://, tcp:// or ssh://)` },
    ]);
  }
  const port = url.port || (env.DOCKER_TLS_VERIFY === '1' ? '2376' : '2375');
  const useTls = tls !== undefined || env.DOCKER_TLS_VERIFY === '1' || port === '2376' || url.protocol === 'https:';
  let tlsFiles = tls;
  if (useTls && !tlsFiles && env.DOCKER_CERT_PATH) {
    const read = (f: string) =>
      existsSync(join(env.DOCKER_CERT_PATH!, f)) ? readFileSync(join(env.DOCKER_CERT_PATH!, f)) : undefined;
    tlsFiles = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  }
  return {
    address: `tcp://${url.hostname}:${port}`,
    source,
    protocol: useTls ? 'https' : 'http',
    host: url.hostname,
    port,
    tls: tlsFiles,
  };
}

function fromContext(configDir: string, name: string, source: string, env: NodeJS.ProcessEnv): EngineEndpoint {
  const id = createHash('sha256').update(name).digest('hex');
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new ConfigError(metaFile, [
      { path: 'context', message: `Docker context "${name}" (${source}) does not exist` },
    ]);
  }
  let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as typeof meta;
  } catch (error) {
    throw new ConfigError(metaFile, [{ path: '', message: `not valid JSON: ${(error as Error).message}` }]);
  }
  const endpoint = meta.Endpoints?.docker;
  if (!endpoint?.Host) throw new ConfigError(metaFile, [{ path: 'Endpoints.docker.Host', message: 'missing' }]);
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const read = (f: string) => (existsSync(join(tlsDir, f)) ? readFileSync(join(tlsDir, f)) : undefined);
  const tls = existsSync(tlsDir)
    ? { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), skipVerify: endpoint.SkipTLSVerify }
    : undefined;
  return fromHost(endpoint.Host, source, env, tls);
}

/**
 * Finds the engine (see {@link resolveEngineEndpoint}), pings it and returns the adapter.
 * @throws {EngineUnavailableError} naming the address tried and how to start an engine.
 */
export async function connectEngine(options: ConnectOptions = {}): Promise<Engine> {
  const endpoint = resolveEngineEndpoint(options);
  const engine = new DockerEngine(endpoint, {
    timeoutMs: options.timeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  await engine.ping();
  return engine;
}

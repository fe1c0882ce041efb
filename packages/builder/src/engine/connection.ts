import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from './docker-engine.js';
import type { Engine, EngineEndpoint } from './engine.js';
import { readTlsFiles, type TlsDirectory } from './read-tls-files.js';
import { resolveSshSettings } from './resolve-ssh-settings.js';
import { ConfigError } from '../errors/config-error.js';

export interface ConnectOptions {
  /** An explicit engine address; wins over the environment. */
  host?: string;
  /** Where `host` came from, for messages (default `option`), e.g. `--engine b`. */
  source?: string;
  /** The engine's name in a pool. */
  name?: string;
  /** TLS for `host` instead of DOCKER_TLS_VERIFY / DOCKER_CERT_PATH: the directory with ca/cert/key.pem. */
  tls?: { certPath: string; verify?: boolean };
  env?: NodeJS.ProcessEnv;
  /** `$DOCKER_CONFIG`, default `~/.docker`. */
  dockerConfigDir?: string;
  /** Home directory for `~/.ssh` and `~/.docker` (default `$HOME`). */
  homeDir?: string;
  /** Ping timeout, and the SSH handshake's; default 5 s. */
  timeoutMs?: number;
  /**
   * Deadline of every other engine request until its answer starts (default 60 s), and the longest silence of an
   * image export or archive stream (5 min); builds, pushes and container waits have their own bounds.
   */
  requestTimeoutMs?: number;
}

interface Resolution {
  env: NodeJS.ProcessEnv;
  configDir: string;
  homeDir: string;
  timeoutMs: number;
}

/** TLS for a tcp engine: where its files are, and whether its certificate is verified. */
type TlsChoice = { location: TlsDirectory; verify: boolean } | undefined;

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Resolves the engine address: explicit option → `DOCKER_HOST` → `DOCKER_CONTEXT` → `currentContext` in
 * `$DOCKER_CONFIG/config.json` → the default socket. TLS files are read and checked here; ssh settings come from
 * `~/.ssh` (see {@link SshSettings}).
 * @throws {ConfigError} when a named context does not exist or its metadata cannot be read.
 * @throws {EngineTlsError} naming the file and the engine when a certificate is missing, unreadable or invalid.
 */
export function resolveEngineEndpoint(options: ConnectOptions = {}): EngineEndpoint {
  const env = options.env ?? process.env;
  const homeDir = options.homeDir ?? env.HOME ?? homedir();
  const configDir = options.dockerConfigDir ?? env.DOCKER_CONFIG ?? join(homeDir, '.docker');
  const r: Resolution = { env, configDir, homeDir, timeoutMs: options.timeoutMs ?? 5000 };
  if (options.host) {
    const source = options.source ?? 'option';
    const tls = options.tls && tlsFromOption(options.tls, source);
    const endpoint = fromHost(options.host, source, r, (port) => tls ?? tlsFromEnv(r, port));
    return { ...endpoint, ...(options.name && { name: options.name }) };
  }
  if (env.DOCKER_HOST) return fromHost(env.DOCKER_HOST, 'DOCKER_HOST', r, (port) => tlsFromEnv(r, port));
  const context = currentContext(env, configDir);
  if (context) return fromContext(context.name, context.source, r);
  return { address: `unix://${DEFAULT_SOCKET}`, source: 'default', socketPath: DEFAULT_SOCKET };
}

function currentContext(env: NodeJS.ProcessEnv, configDir: string): { name: string; source: string } | undefined {
  let name = env.DOCKER_CONTEXT;
  let source = `DOCKER_CONTEXT=${name}`;
  const configFile = join(configDir, 'config.json');
  if (!name && existsSync(configFile)) {
    name = readJson<{ currentContext?: string }>(configFile).currentContext;
    source = `context ${name} (${configFile})`;
  }
  return name && name !== 'default' ? { name, source } : undefined;
}

/**
 * TLS from the environment, as the Docker CLI reads it: `DOCKER_TLS_VERIFY` (any non-empty value) verifies the
 * engine, `DOCKER_TLS` alone encrypts without verifying; port 2376 implies TLS. Files come from `DOCKER_CERT_PATH`
 * (which must then hold them) or else `$DOCKER_CONFIG` (missing files skipped).
 */
function tlsFromEnv(r: Resolution, port: string): TlsChoice {
  const verify = Boolean(r.env.DOCKER_TLS_VERIFY);
  if (!verify && !r.env.DOCKER_TLS && port !== '2376') return undefined;
  const explicit = r.env.DOCKER_CERT_PATH;
  const location = explicit
    ? { dir: explicit, origin: `DOCKER_CERT_PATH=${explicit}`, required: true }
    : { dir: r.configDir, origin: 'default certificate directory', required: false };
  return { location, verify: verify || !r.env.DOCKER_TLS };
}

function tlsFromOption(tls: NonNullable<ConnectOptions['tls']>, source: string): TlsChoice {
  return {
    location: { dir: tls.certPath, origin: `certPath of ${source}`, required: true },
    verify: tls.verify ?? true,
  };
}

function fromHost(host: string, source: string, r: Resolution, tlsFor: (port: string) => TlsChoice): EngineEndpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || DEFAULT_SOCKET;
    return { address: `unix://${socketPath}`, source, socketPath };
  }
  const url = new URL(host.includes('://') ? host : `tcp://${host}`);
  if (url.protocol === 'ssh:') {
    const ssh = resolveSshSettings(url, { env: r.env, homeDir: r.homeDir, timeoutMs: r.timeoutMs });
    return {
      address: host,
      source,
      protocol: 'ssh',
      host: ssh.host,
      port: String(ssh.port),
      username: ssh.username,
      ssh,
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(source, [
      { path: source, message: `unsupported engine address ${host} (use unix://, tcp:// or ssh://)` },
    ]);
  }
  const choice = tlsFor(url.port) ?? (url.protocol === 'https:' ? tlsFromEnv(r, '2376') : undefined);
  const port = url.port || (choice ? '2376' : '2375');
  const address = `tcp://${url.hostname}:${port}`;
  const tls = choice && readTlsFiles({ address, source }, choice.location, !choice.verify);
  return { address, source, protocol: tls ? 'https' : 'http', host: url.hostname, port, ...(tls && { tls }) };
}

function fromContext(name: string, source: string, r: Resolution): EngineEndpoint {
  const id = createHash('sha256').update(name).digest('hex');
  const metaFile = join(r.configDir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new ConfigError(metaFile, [
      { path: 'context', message: `Docker context "${name}" (${source}) does not exist` },
    ]);
  }
  const meta = readJson<{ Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } }>(metaFile);
  const endpoint = meta.Endpoints?.docker;
  if (!endpoint?.Host) throw new ConfigError(metaFile, [{ path: 'Endpoints.docker.Host', message: 'missing' }]);
  const dir = join(r.configDir, 'contexts', 'tls', id, 'docker');
  const skipVerify = endpoint.SkipTLSVerify === true;
  // As docker/cli context/docker/load.go: TLS when the context stores TLS files or skips verification.
  const choice: TlsChoice =
    existsSync(dir) || skipVerify
      ? { location: { dir, origin: `context "${name}"`, required: false }, verify: !skipVerify }
      : undefined;
  return fromHost(endpoint.Host, source, r, () => choice);
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `not valid JSON: ${(error as Error).message}` }]);
  }
}

/**
 * Finds the engine (`host` option → `DOCKER_HOST` → `DOCKER_CONTEXT` → the current context in `$DOCKER_CONFIG` → the
 * default socket), pings it and returns the adapter.
 * @throws {ConfigError} when a named context does not exist or its metadata cannot be read.
 * @throws {EngineUnavailableError} naming the address tried and how to start an engine.
 * @throws {EngineTlsError} / {EngineSshError} when TLS or SSH to the engine fails (naming the certificate or key).
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
 * Adapters for a pool of engines, in order. Nothing is contacted here: an engine that does not answer fails the
 * first image it takes, with its name and address, and takes no more (the others go on).
 * @throws {ConfigError} / {EngineTlsError} for an address or certificate that cannot work (before anything runs).
 */
export function connectEngines(specs: readonly EngineSpec[], options: ConnectOptions = {}): Engine[] {
  return specs.map((spec) => {
    const endpoint = resolveEngineEndpoint({
      ...options,
      host: spec.host,
      name: spec.name,
      source: spec.source ?? `engine ${spec.name}`,
      ...(spec.certPath && { tls: { certPath: spec.certPath, verify: spec.tlsVerify ?? true } }),
    });
    return new DockerEngine(endpoint, { timeoutMs: options.timeoutMs, requestTimeoutMs: options.requestTimeoutMs });
  });
}

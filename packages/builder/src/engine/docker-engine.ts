import Docker from 'dockerode';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import type {
  EngineEndpoint,
  ContainerInspect,
  ContainerTop,
  ContainerSpec,
  Engine,
  EngineBuildRequest,
  EngineJsonMessage,
  EngineSessionRequest,
  ImageHistoryEntry,
  ImageInspect,
  RegistryAuth,
} from './engine.js';
import { negotiateApiVersion, type EngineApi, type EngineVersion } from './api-version.js';
import { createSshAgent } from './create-ssh-agent.js';
import type { EngineTls } from './read-tls-files.js';
import { FourpassError } from '../errors/fourpass-error.js';
import {
  EngineRequestError,
  EngineSshError,
  EngineTimeoutError,
  EngineTlsError,
  EngineUnavailableError,
} from './engine-errors.js';

/** Raw shape of errors raised by docker-modem. */
interface ModemError {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  code?: string;
  message?: string;
}

/** Deadline of a request until its answer starts; an export or archive stream may be silent 5× as long. */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const STREAM_IDLE_FACTOR = 5;

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
]);

/**
 * The Engine adapter over dockerode: the only file in the code base that imports it. Stateless apart from the
 * connection; every daemon error becomes an {@link EngineRequestError} or {@link EngineUnavailableError}.
 */
export class DockerEngine implements Engine {
  readonly address: string;
  readonly source: string;
  readonly name: string | undefined;
  private readonly docker: Docker;
  private readonly timeoutMs: number;
  private readonly tls: EngineTls | undefined;
  private readonly requestTimeoutMs: number;
  private negotiated: Promise<EngineApi> | undefined;

  /** @throws {EngineTlsError} when the Engine API client cannot read the environment's DOCKER_CERT_PATH. */
  constructor(
    endpoint: EngineEndpoint,
    options: { timeoutMs?: number | undefined; requestTimeoutMs?: number | undefined } = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.address = endpoint.address;
    this.source = endpoint.source;
    this.name = endpoint.name;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.tls = endpoint.tls;
    try {
      this.docker = new Docker(modemOptions(endpoint));
    } catch (error) {
      // docker-modem reads DOCKER_HOST/DOCKER_CERT_PATH itself (and throws on missing files) before our options apply.
      const problem = `the Engine API client could not read DOCKER_CERT_PATH: ${(error as Error).message}`;
      throw new EngineTlsError(this.address, this.source, 'ca', process.env.DOCKER_CERT_PATH, problem, {
        cause: error,
      });
    }
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      throw this.connectionError(error) ?? new EngineUnavailableError(this.address, this.source, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async version(): Promise<EngineVersion> {
    const v = await this.call('GET /version', () => this.docker.version());
    return { apiVersion: v.ApiVersion, minApiVersion: v.MinAPIVersion, version: v.Version, os: v.Os, arch: v.Arch };
  }

  /**
   * Negotiated once (`GET /version`, unversioned), then every request goes to `/v<version>/…`.
   * @throws {EngineApiVersionError} when the engine's API range and ours do not meet.
   */
  api(): Promise<EngineApi> {
    this.negotiated ??= this.negotiate();
    return this.negotiated;
  }

  private async negotiate(): Promise<EngineApi> {
    try {
      const late = (): Error => new EngineTimeoutError(this.address, 'GET /version', this.requestTimeoutMs);
      const v = await settleWithin(this.docker.version(), this.requestTimeoutMs, dispose, late);
      const version = {
        apiVersion: v.ApiVersion,
        minApiVersion: v.MinAPIVersion,
        version: v.Version,
        os: v.Os,
        arch: v.Arch,
      };
      const api = negotiateApiVersion(version, this.address);
      (this.docker.modem as { version?: string }).version = `v${api.version}`;
      return api;
    } catch (error) {
      this.negotiated = undefined; // an engine that was down may answer later
      throw error instanceof FourpassError ? error : this.mapError('GET /version', error);
    }
  }

  // --- builds -------------------------------------------------------------------------------------------------

  async build(request: EngineBuildRequest): Promise<AsyncIterable<EngineJsonMessage>> {
    const options: Record<string, unknown> = {
      dockerfile: request.dockerfile,
      version: '2',
      buildid: request.buildId,
      rm: true,
      forcerm: true,
    };
    if (request.tags?.length) options.t = request.tags;
    if (request.target) options.target = request.target;
    if (request.buildArgs && Object.keys(request.buildArgs).length) options.buildargs = request.buildArgs;
    if (request.labels && Object.keys(request.labels).length) options.labels = request.labels;
    if (request.networkMode) options.networkmode = request.networkMode;
    if (request.noCache) options.nocache = true;
    if (request.pull) options.pull = true;
    if (request.platform) options.platform = request.platform;
    // A JSON array in ONE parameter: docker-modem would repeat the key for a JS array, which the daemon rejects.
    if (request.cacheFrom?.length) options.cachefrom = JSON.stringify(request.cacheFrom);
    if (request.sessionId) options.session = request.sessionId;
    // Unbounded here: 20.10 answers only once it has read the whole context; the build's watchdog bounds it.
    const stream = await this.call(
      'POST /build',
      () =>
        this.dial<Readable>({
          path: '/build?',
          method: 'POST',
          // Through the session there is no body at all: a body would hold the engine's answer back until it is read.
          ...(request.context
            ? { file: request.context, options, headers: { 'Content-Type': 'application/x-tar' } }
            : { options: { _query: { ...options, remote: 'client-session' }, _body: {} } }),
          isStream: true,
          abortSignal: request.signal,
          statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        }),
      false,
    );
    return jsonLines(stream);
  }

  async cancelBuild(buildId: string): Promise<void> {
    try {
      await this.dial({
        path: `/build/cancel?`,
        method: 'POST',
        options: { id: buildId },
        statusCodes: { 200: true, 404: 'no such build', 500: 'server error' },
      });
    } catch {
      // A build that already ended cannot be canceled; that is fine.
    }
  }

  async openSession(request: EngineSessionRequest): Promise<Duplex> {
    const upgrade = this.dial<Duplex>({
      path: '/session',
      method: 'POST',
      hijack: true,
      headers: {
        Upgrade: 'h2c',
        'X-Docker-Expose-Session-Uuid': request.sessionId,
        'X-Docker-Expose-Session-Name': request.name,
        // BuildKit keeps the last context it received per shared key and asks only for what changed since.
        ...(request.sharedKey && { 'X-Docker-Expose-Session-Sharedkey': request.sharedKey }),
        'X-Docker-Expose-Session-Grpc-Method': [...request.methods],
      },
      abortSignal: request.signal,
      statusCodes: { 101: true, 200: true, 400: 'bad parameter', 404: 'not supported', 500: 'server error' },
    });
    const late = (): Error => new EngineTimeoutError(this.address, 'POST /session', this.timeoutMs);
    return this.call('POST /session', () => settleWithin(upgrade, this.timeoutMs, dispose, late), false);
  }

  // --- images -------------------------------------------------------------------------------------------------

  async inspectImage(ref: string): Promise<ImageInspect | undefined> {
    return this.orUndefined(
      `GET /images/${ref}/json`,
      () => this.docker.getImage(ref).inspect() as Promise<unknown> as Promise<ImageInspect>,
    );
  }

  async imageHistory(ref: string): Promise<ImageHistoryEntry[]> {
    return this.call(
      `GET /images/${ref}/history`,
      () => this.docker.getImage(ref).history() as Promise<ImageHistoryEntry[]>,
    );
  }

  async exportImage(ref: string, signal?: AbortSignal): Promise<Readable> {
    const operation = `GET /images/${ref}/get`;
    // The engine writes the whole image to a temporary directory before the first byte of the tar (measured on 20.10:
    // 1.0–1.6 s of a 1.2–1.9 s export of 160 MB), so the answer starts as late as a silence of the stream may last.
    const request = {
      path: `/images/${ref}/get`,
      method: 'GET',
      isStream: true,
      abortSignal: signal,
      statusCodes: { 200: true, 500: 'server error' },
    };
    const stream = await this.call(
      operation,
      () => this.dial<Readable>(request),
      this.requestTimeoutMs * STREAM_IDLE_FACTOR,
    ).catch((error: unknown) => {
      throw signal?.aborted ? signal.reason : error;
    });
    return this.idle(operation, stream);
  }

  async loadImage(tar: Readable, signal?: AbortSignal): Promise<string[]> {
    const operation = 'POST /images/load';
    const stream = await this.call(operation, () =>
      this.dial<Readable>({
        path: '/images/load?',
        method: 'POST',
        file: tar,
        options: { quiet: '1' },
        headers: { 'Content-Type': 'application/x-tar' },
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 500: 'server error' },
      }),
    );
    const loaded: string[] = [];
    const messages = await this.call(operation, async () => {
      const all: EngineJsonMessage[] = [];
      for await (const message of jsonLines(stream)) all.push(message);
      return all;
    });
    for (const message of messages) {
      if (message.errorDetail || message.error) {
        const text = message.errorDetail?.message ?? message.error ?? 'unknown error';
        throw new EngineRequestError(operation, undefined, text, { engine: this.label });
      }
      const name = /^Loaded image(?: ID)?: (.+)$/.exec(message.stream?.trim() ?? '')?.[1];
      if (name) loaded.push(name);
    }
    return loaded;
  }

  async tryPull(ref: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const stream = (await this.docker.pull(ref, { abortSignal: signal })) as Readable;
      for await (const message of jsonLines(stream)) {
        if (message.errorDetail || message.error) return false;
      }
      return (await this.inspectImage(ref)) !== undefined;
    } catch {
      return false;
    }
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    await this.call(`POST /images/${ref}/tag`, () => this.docker.getImage(ref).tag({ repo, tag }));
  }

  async removeImage(ref: string, options: { force?: boolean; noprune?: boolean } = {}): Promise<void> {
    await this.orUndefined(`DELETE /images/${ref}`, () =>
      this.docker.getImage(ref).remove({ force: options.force, noprune: options.noprune }),
    );
  }

  async listImages(filters: Record<string, string[]>) {
    const images = await this.call('GET /images/json', () =>
      this.docker.listImages({ filters: JSON.stringify(filters) } as Docker.ListImagesOptions),
    );
    return images.map((i) => ({ id: i.Id, repoTags: i.RepoTags ?? [], labels: i.Labels ?? {} }));
  }

  // --- containers -----------------------------------------------------------------------------------------------

  async createContainer(spec: ContainerSpec): Promise<string> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const [port, hostPort] of Object.entries(spec.portBindings ?? {})) {
      exposed[port] = {};
      bindings[port] = [{ HostIp: '127.0.0.1', HostPort: hostPort === '0' ? '' : hostPort }];
    }
    const ns = (ms: number | undefined) => (ms === undefined ? undefined : ms * 1_000_000);
    const container = await this.call('POST /containers/create', () =>
      this.docker.createContainer({
        Image: spec.image,
        name: spec.name,
        Cmd: spec.cmd,
        Entrypoint: spec.entrypoint,
        User: spec.user,
        Env: spec.env,
        Labels: spec.labels,
        ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
        Healthcheck: spec.healthcheck
          ? {
              Test: spec.healthcheck.test,
              Interval: ns(spec.healthcheck.intervalMs),
              Timeout: ns(spec.healthcheck.timeoutMs),
              StartPeriod: ns(spec.healthcheck.startPeriodMs),
              Retries: spec.healthcheck.retries,
            }
          : undefined,
        HostConfig: {
          ReadonlyRootfs: spec.readOnlyRootfs ?? false,
          Tmpfs: spec.tmpfs,
          NetworkMode: spec.networkMode,
          PortBindings: Object.keys(bindings).length ? bindings : undefined,
          ExtraHosts: spec.extraHosts,
        },
      }),
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call(`POST /containers/${id}/start`, () => this.docker.getContainer(id).start());
  }

  async inspectContainer(id: string): Promise<ContainerInspect | undefined> {
    return this.orUndefined(
      `GET /containers/${id}/json`,
      () => this.docker.getContainer(id).inspect() as Promise<unknown> as Promise<ContainerInspect>,
    );
  }

  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    // No deadline: a container runs as long as it runs; the caller bounds it (its signal).
    const result = (await this.call(
      `POST /containers/${id}/wait`,
      () => this.docker.getContainer(id).wait({ abortSignal: signal } as object),
      false,
    )) as { StatusCode: number };
    return result.StatusCode;
  }

  async containerLogs(id: string): Promise<{ stdout: string; stderr: string }> {
    const raw = (await this.call(`GET /containers/${id}/logs`, () =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false }),
    )) as unknown as Buffer;
    return demuxBuffer(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  }

  async followLogs(
    id: string,
    onChunk: (stream: 'stdout' | 'stderr', text: string) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const stream = (await this.call(`GET /containers/${id}/logs`, () =>
      this.docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, follow: true, abortSignal: signal } as { follow: true }),
    )) as unknown as Readable;
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (chunk: Buffer) => onChunk('stdout', chunk.toString('utf8')));
    err.on('data', (chunk: Buffer) => onChunk('stderr', chunk.toString('utf8')));
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
      signal?.addEventListener('abort', () => {
        stream.destroy();
        done();
      });
    });
  }

  async getArchive(id: string, path: string): Promise<Readable> {
    const operation = `GET /containers/${id}/archive`;
    const stream = await this.call(
      operation,
      () => this.docker.getContainer(id).getArchive({ path }) as Promise<Readable>,
    );
    return this.idle(operation, stream);
  }

  async exportContainer(id: string): Promise<Readable> {
    return this.call(`GET /containers/${id}/export`, () => this.docker.getContainer(id).export() as Promise<Readable>);
  }

  async topContainer(id: string, psArgs?: string): Promise<ContainerTop> {
    return this.call(
      `GET /containers/${id}/top`,
      () => this.docker.getContainer(id).top(psArgs ? { ps_args: psArgs } : {}) as Promise<ContainerTop>,
    );
  }

  async exec(id: string, cmd: string[], options: { user?: string; env?: string[] } = {}) {
    const container = this.docker.getContainer(id);
    const exec = await this.call(`POST /containers/${id}/exec`, () =>
      container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: options.user, Env: options.env }),
    );
    const stream = await this.call(`POST /exec/${exec.id}/start`, () => exec.start({ hijack: true, stdin: false }));
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const out = new PassThrough().on('data', (c: Buffer) => chunks.stdout.push(c));
    const err = new PassThrough().on('data', (c: Buffer) => chunks.stderr.push(c));
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', reject);
    });
    const info = await this.call(`GET /exec/${exec.id}/json`, () => exec.inspect());
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(chunks.stdout).toString('utf8'),
      stderr: Buffer.concat(chunks.stderr).toString('utf8'),
    };
  }

  async removeContainer(id: string): Promise<void> {
    await this.orUndefined(`DELETE /containers/${id}`, () =>
      this.docker.getContainer(id).remove({ force: true, v: true }),
    );
  }

  async listContainers(filters: Record<string, string[]>) {
    const containers = await this.call('GET /containers/json', () =>
      this.docker.listContainers({ all: true, filters: JSON.stringify(filters) }),
    );
    return containers.map((c) => ({ id: c.Id, state: c.State, labels: c.Labels ?? {} }));
  }

  // --- registries -----------------------------------------------------------------------------------------------

  async checkAuth(auth: RegistryAuth): Promise<void> {
    await this.call(`POST /auth (${auth.serveraddress})`, () => this.docker.checkAuth(auth));
  }

  async push(
    repo: string,
    tag: string,
    auth: RegistryAuth,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<EngineJsonMessage>> {
    if (!tag)
      throw new EngineRequestError(`push ${repo}`, undefined, 'a tag is required (an empty tag would push every tag)', {
        engine: this.label,
      });
    const stream = (await this.call(`POST /images/${repo}/push`, () =>
      this.docker.getImage(repo).push({ tag, authconfig: auth, abortSignal: signal } as object),
    )) as unknown as Readable;
    return jsonLines(stream);
  }

  // --- plumbing -------------------------------------------------------------------------------------------------

  private async dial<T>(options: Record<string, unknown>): Promise<T> {
    await this.api();
    return new Promise<T>((resolve, reject) => {
      this.docker.modem.dial(options as never, (error: unknown, result: unknown) =>
        error ? reject(error) : resolve(result as T),
      );
    });
  }

  /** Runs one request with its deadline (none when `deadlineMs` is false); daemon errors become our typed errors. */
  private async call<T>(
    operation: string,
    fn: () => Promise<T>,
    deadlineMs: number | false = this.requestTimeoutMs,
  ): Promise<T> {
    const late = (): Error => new EngineTimeoutError(this.address, operation, deadlineMs || 0);
    try {
      if (operation !== 'GET /version') await this.api();
      return deadlineMs === false ? await fn() : await settleWithin(fn(), deadlineMs, dispose, late);
    } catch (error) {
      throw error instanceof EngineTimeoutError ? error : this.mapError(operation, error);
    }
  }

  /** A response stream that fails (with EngineTimeoutError) after 5 × the request deadline without data. */
  private idle(operation: string, stream: Readable): Readable {
    const ms = this.requestTimeoutMs * STREAM_IDLE_FACTOR;
    const timed = stream as Readable & { setTimeout?: (ms: number, onTimeout: () => void) => unknown };
    timed.setTimeout?.(ms, () => stream.destroy(new EngineTimeoutError(this.address, `${operation} (no data)`, ms)));
    return stream;
  }

  private async orUndefined<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      await this.api();
      return await fn();
    } catch (error) {
      if ((error as ModemError).statusCode === 404) return undefined;
      throw this.mapError(operation, error);
    }
  }

  /** `tcp://127.0.0.1:2376 (from DOCKER_HOST)`: how errors name this engine. */
  private get label(): string {
    return `${this.address} (from ${this.source})`;
  }

  private mapError(operation: string, error: unknown): Error {
    const e = error as ModemError;
    const connection = this.connectionError(error);
    if (connection) return connection;
    const json = e.json;
    // Streaming dials (isStream) leave `json` null; docker-modem then puts the daemon's text in the message:
    // "(HTTP code 500) server error - network mode "bridge" not supported by buildkit".
    const fromMessage = /^\(HTTP code \d+\) [^-]*- (.+)$/s.exec(e.message ?? '')?.[1]?.trim();
    const message =
      typeof json === 'object' && json?.message
        ? json.message
        : typeof json === 'string' && json
          ? json
          : fromMessage || (e.reason ?? e.message ?? String(error));
    return new EngineRequestError(operation, e.statusCode, message.trim(), { cause: error, engine: this.label });
  }

  /** An error that is about reaching the engine (TLS, SSH, refused), not about the request; else `undefined`. */
  private connectionError(error: unknown): Error | undefined {
    if (error instanceof EngineSshError || error instanceof EngineTlsError) return error;
    const e = error as ModemError;
    const code = e.code ?? '';
    const tls = (which: 'cert' | 'server', file: string | undefined, problem: string) =>
      new EngineTlsError(this.address, this.source, which, file, problem, { cause: error });
    if (/^ERR_SSL_.*ALERT/.test(code)) {
      const cert = this.tls?.files.cert;
      return tls(
        'cert',
        cert,
        `the engine rejected ${cert ? `the client certificate ${cert}` : 'the connection (no client certificate was sent)'}: ${e.message} (${code})`,
      );
    }
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') {
      return tls('server', undefined, `the engine does not speak TLS on this port: ${e.message}`);
    }
    if (/CERT|SIGNATURE|ISSUER|ALTNAME|INVALID_CA|INVALID_PURPOSE/.test(code)) {
      const against = this.tls?.files.ca ? `the CA certificate ${this.tls.files.ca}` : "the system's CA certificates";
      return tls(
        'server',
        this.tls?.files.ca,
        `the engine's certificate did not verify against ${against}: ${e.message} (${code})`,
      );
    }
    if (e.statusCode === 400 && /HTTP request to an HTTPS server/.test(String(e.message ?? ''))) {
      return tls(
        'server',
        undefined,
        'the engine speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use a context with TLS files',
      );
    }
    if (UNREACHABLE.has(code) && e.statusCode === undefined) {
      return new EngineUnavailableError(this.address, this.source, { cause: error });
    }
    return undefined;
  }
}

/**
 * dockerode options for exactly the resolved endpoint. docker-modem merges its own reading of DOCKER_HOST and
 * DOCKER_CERT_PATH UNDER these, so every connection key is set (to undefined when unused). TLS and SSH go through
 * our own agents: TLS so that `SkipTLSVerify` is honoured and connections are kept alive; SSH so that all requests
 * share one SSH connection (see createSshAgent).
 */
function modemOptions(endpoint: EngineEndpoint): Docker.DockerOptions {
  const unset = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, username: undefined };
  const noTls = { ca: undefined, cert: undefined, key: undefined };
  if (endpoint.socketPath) return { ...unset, ...noTls, socketPath: endpoint.socketPath } as Docker.DockerOptions;
  if (endpoint.ssh) {
    const agent = createSshAgent(endpoint.ssh, endpoint);
    return { ...unset, ...noTls, protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions;
  }
  const tls = endpoint.tls;
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.skipVerify })
    : undefined;
  const protocol = tls ? 'https' : 'http';
  return {
    ...unset,
    ...noTls,
    ...(tls && { ca: tls.ca, cert: tls.cert, key: tls.key }),
    protocol,
    host: endpoint.host,
    port: endpoint.port,
    agent,
  } as Docker.DockerOptions;
}

/** `promise`, or `timeout()` after `ms`; a value that arrives too late is handed to `dispose`. */
function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
  dispose: (late: T) => void,
  timeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(timeout());
    }, ms);
    promise.then(
      (value) => (late ? dispose(value) : (clearTimeout(timer), resolve(value))),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** Releases what a request answered too late: a stream is destroyed, anything else dropped. */
function dispose(late: unknown): void {
  if (late && typeof (late as { destroy?: unknown }).destroy === 'function') (late as { destroy(): void }).destroy();
}

/** Splits a JSON-lines HTTP body into parsed messages (tolerates chunks that cut lines in half). */
export async function* jsonLines(stream: Readable): AsyncGenerator<EngineJsonMessage> {
  let buffer = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield parseLine(line);
    }
  }
  if (buffer.trim()) yield parseLine(buffer.trim());
}

function parseLine(line: string): EngineJsonMessage {
  try {
    return JSON.parse(line) as EngineJsonMessage;
  } catch {
    return { stream: line };
  }
}

/** Splits Docker's multiplexed log format (8-byte frame headers) into stdout and stderr. */
function demuxBuffer(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  const framed = raw.length >= 8 && (raw[0] === 1 || raw[0] === 2) && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
  if (!framed) return { stdout: raw.toString('utf8'), stderr: '' };
  while (offset + 8 <= raw.length) {
    const type = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    const payload = raw.subarray(offset + 8, offset + 8 + size);
    (type === 2 ? err : out).push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

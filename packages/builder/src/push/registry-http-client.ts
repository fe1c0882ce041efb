import { createHash } from 'node:crypto';
import type { RegistryAuth } from '../engine/engine.js';
import { formatDuration } from '../units/format-units.js';
import { RegistryAuthError } from './push-errors.js';
import { TransientFailure } from './retry.js';

/** Manifest types we ask for, the Docker v2 schema first (what docker 20.10 pushes). */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Deadlines of every registry API request. A request that misses one fails as a transient timeout (retried by the
 * caller, then `RegistryTimeoutError` naming what was awaited).
 */
export interface RegistryTimeouts {
  /** From sending a request to its response headers (default 30 s). */
  headersMs?: number;
  /** Longest silence while a response body is read (default 30 s): a body that stalls mid-way fails too. */
  bodyIdleMs?: number;
}

export const DEFAULT_REGISTRY_TIMEOUTS: Required<RegistryTimeouts> = { headersMs: 30_000, bodyIdleMs: 30_000 };

/** Manifests are at most 4 MiB (distribution's own limit); tag lists and token answers are far smaller. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RegistryHttpClientOptions {
  /** `host[:port]`. */
  host: string;
  scheme: 'http' | 'https';
  auth?: RegistryAuth;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Defaults: {@link DEFAULT_REGISTRY_TIMEOUTS}. */
  timeouts?: RegistryTimeouts;
  /** Aborting stops the request in flight (it rejects with the abort's reason, never as a transient failure). */
  signal?: AbortSignal;
  /** Redacts secrets out of registry error bodies. */
  redact?: (text: string) => string;
}

/**
 * A minimal Docker Registry HTTP API v2 client: manifests, blobs and tag lists. Handles Basic auth and the
 * Bearer token dance (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`). Stateful (token cache), hence a class.
 * Every request is bounded ({@link RegistryTimeouts}). Failures worth a retry throw `TransientFailure` of kind
 * `server` (5xx, 429), `unavailable` (refused, reset, dropped) or `timeout`; 401/403 after authenticating throw
 * `RegistryAuthError`.
 */
export class RegistryHttpClient {
  private readonly fetchFn: typeof fetch;
  private readonly tokens = new Map<string, string>();
  private readonly redact: (text: string) => string;
  private readonly timeouts: Required<RegistryTimeouts>;

  constructor(private readonly options: RegistryHttpClientOptions) {
    this.fetchFn = options.fetch ?? fetch;
    this.redact = options.redact ?? ((t) => t);
    this.timeouts = {
      headersMs: options.timeouts?.headersMs ?? DEFAULT_REGISTRY_TIMEOUTS.headersMs,
      bodyIdleMs: options.timeouts?.bodyIdleMs ?? DEFAULT_REGISTRY_TIMEOUTS.bodyIdleMs,
    };
  }

  /** The `Docker-Content-Digest` of `name:reference`, or `undefined` when the registry has no such manifest. */
  async manifestDigest(name: string, reference: string): Promise<string | undefined> {
    const path = `/v2/${name}/manifests/${reference}`;
    const head = await this.request('HEAD', path, `repository:${name}:pull`, { Accept: MANIFEST_ACCEPT });
    if (head.status === 404) return undefined;
    const digest = head.headers.get('docker-content-digest');
    if (digest) return digest;
    // Registries may omit the header on HEAD: GET and hash the exact bytes.
    const get = await this.request('GET', path, `repository:${name}:pull`, { Accept: MANIFEST_ACCEPT });
    if (get.status === 404) return undefined;
    const body = await this.body(get, `GET ${path}`);
    return get.headers.get('docker-content-digest') ?? sha256(body);
  }

  /**
   * Points `tag` at the manifest `digest` already in the repository, uploading nothing but the manifest itself
   * (`GET …/manifests/<digest>`, then `PUT …/manifests/<tag>` with the same bytes and media type). Returns the digest
   * the registry names for it.
   */
  async copyManifest(name: string, digest: string, tag: string): Promise<string> {
    const scope = `repository:${name}:pull,push`;
    const from = `/v2/${name}/manifests/${digest}`;
    const get = await this.request('GET', from, scope, { Accept: MANIFEST_ACCEPT });
    if (get.status === 404) throw new Error(`manifest ${digest} is not in ${this.options.host}/${name}`);
    const body = await this.body(get, `GET ${from}`);
    const type = get.headers.get('content-type') ?? 'application/vnd.docker.distribution.manifest.v2+json';
    const to = `/v2/${name}/manifests/${tag}`;
    const put = await this.request('PUT', to, scope, { 'Content-Type': type }, body);
    await put.body?.cancel();
    return put.headers.get('docker-content-digest') ?? sha256(body);
  }

  /** The manifest at `reference` (tag or digest) with its bytes, or `undefined` when there is none. */
  async getManifest(
    name: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined> {
    const path = `/v2/${name}/manifests/${reference}`;
    const response = await this.request('GET', path, `repository:${name}:pull`, { Accept: MANIFEST_ACCEPT });
    if (response.status === 404) return undefined;
    const body = await this.body(response, `GET ${path}`);
    const digest = response.headers.get('docker-content-digest') ?? sha256(body);
    return { digest, mediaType: response.headers.get('content-type') ?? '', body };
  }

  /** A small blob's bytes (a config, a report); more than `maxBytes` is refused. */
  async getBlob(name: string, digest: string, maxBytes: number): Promise<Buffer> {
    const path = `/v2/${name}/blobs/${digest}`;
    const response = await this.request('GET', path, `repository:${name}:pull`, {});
    if (response.status === 404) throw new Error(`blob ${digest} of ${name} not found`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > maxBytes) {
      await response.body?.cancel();
      throw new Error(`blob ${digest} of ${name} is ${length} bytes, more than ${maxBytes}`);
    }
    return this.body(response, `GET ${path}`, maxBytes);
  }

  /** Streams a blob (a layer), each chunk within the body idle deadline. */
  async openBlob(name: string, digest: string): Promise<AsyncIterable<Buffer>> {
    const path = `/v2/${name}/blobs/${digest}`;
    const response = await this.request('GET', path, `repository:${name}:pull`, {});
    if (response.status === 404 || !response.body) throw new Error(`blob ${digest} of ${name} not found`);
    return streamBody(response.body.getReader(), this.timeouts.bodyIdleMs, `${path} from ${this.options.host}`);
  }

  /** Uploads a blob in one request (`POST` then `PUT ?digest=`); resolves with its digest. */
  async putBlob(name: string, content: Buffer): Promise<string> {
    const digest = sha256(content);
    const scope = `repository:${name}:pull,push`;
    const started = await this.request('POST', `/v2/${name}/blobs/uploads/`, scope, {});
    const location = started.headers.get('location');
    await started.body?.cancel();
    if (!location) throw new Error(`the registry gave no upload location for ${name}`);
    const url = new URL(location, `${this.options.scheme}://${this.options.host}`);
    url.searchParams.set('digest', digest);
    const headers = { 'Content-Type': 'application/octet-stream' };
    const put = await this.request('PUT', url.toString(), scope, headers, content);
    await put.body?.cancel();
    return digest;
  }

  /** Puts a manifest under `reference`; resolves with its digest. */
  async putManifest(name: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
    const path = `/v2/${name}/manifests/${reference}`;
    const put = await this.request('PUT', path, `repository:${name}:pull,push`, { 'Content-Type': mediaType }, body);
    await put.body?.cancel();
    return put.headers.get('docker-content-digest') ?? sha256(body);
  }

  /** The repository's tags, or `undefined` when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    const path = `/v2/${name}/tags/list`;
    const response = await this.request('GET', path, `repository:${name}:pull`, {});
    if (response.status === 404) return undefined;
    const body = JSON.parse((await this.body(response, `GET ${path}`)).toString('utf8')) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  private basicHeader(): string | undefined {
    const auth = this.options.auth;
    if (!auth?.username || auth.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  /** Sends a request (authenticating as the registry asks) and checks its status; the body is left to the caller. */
  private async request(
    method: string,
    path: string,
    scope: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<Response> {
    // An upload's Location may be absolute.
    const url = /^https?:\/\//.test(path) ? path : `${this.options.scheme}://${this.options.host}${path}`;
    const token = this.tokens.get(scope);
    const authorization = token ? `Bearer ${token}` : this.basicHeader();
    const first = { ...headers, ...(authorization && { Authorization: authorization }) };
    let response = await this.send(method, url, first, body);
    if (response.status === 401) {
      const retry = { method, url, scope, headers, sentAuth: !!authorization, body };
      response = await this.answerChallenge(response, retry);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      const username = this.options.auth?.username;
      throw new RegistryAuthError(this.options.host, username, `${method} ${path} → HTTP ${response.status}`);
    }
    if (response.status >= 500 || response.status === 429 || (!response.ok && response.status !== 404)) {
      const text = method === 'HEAD' ? '' : await this.errorText(response, `${method} ${path}`);
      const reason = this.redact(`${method} ${url} → HTTP ${response.status}${text ? `: ${text}` : ''}`);
      if (response.status >= 500 || response.status === 429)
        throw new TransientFailure(reason, { kind: 'server', status: response.status });
      throw new Error(reason);
    }
    return response;
  }

  /** A 401: fetch a bearer token for `scope` and send again, or send basic credentials not sent yet. */
  private async answerChallenge(
    response: Response,
    request: {
      method: string;
      url: string;
      scope: string;
      headers: Record<string, string>;
      sentAuth: boolean;
      body: Buffer | undefined;
    },
  ): Promise<Response> {
    const { method, url, scope, headers, body } = request;
    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    await response.body?.cancel();
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const fresh = await this.fetchToken(challenge.params, scope);
      this.tokens.set(scope, fresh);
      return this.send(method, url, { ...headers, Authorization: `Bearer ${fresh}` }, body);
    }
    const basic = this.basicHeader();
    if (basic && !request.sentAuth) {
      return this.send(method, url, { ...headers, Authorization: basic }, body);
    }
    return response;
  }

  private async fetchToken(params: Record<string, string>, scope: string): Promise<string> {
    const realm = new URL(params.realm ?? '');
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? scope);
    const basic = this.basicHeader();
    const response = await this.send('GET', realm.toString(), basic ? { Authorization: basic } : {});
    const reason = `token service ${realm.host} → HTTP ${response.status}`;
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryAuthError(this.options.host, this.options.auth?.username, reason);
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (response.status >= 500 || response.status === 429)
        throw new TransientFailure(reason, { kind: 'server', status: response.status });
      throw new Error(reason);
    }
    const what = `the token from ${realm.host}`;
    const body = JSON.parse((await this.body(response, what)).toString('utf8')) as {
      token?: string;
      access_token?: string;
    };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token service ${realm.host} returned no token`);
    return token;
  }

  /** `fetch` with the headers deadline; network failures and timeouts become `TransientFailure`. */
  private async send(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<Response> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeouts.headersMs);
    const outer = this.options.signal;
    const signal = outer ? AbortSignal.any([outer, deadline.signal]) : deadline.signal;
    try {
      return await this.fetchFn(url, { method, headers, signal, ...(body && { body }) });
    } catch (error) {
      if (outer?.aborted) throw error;
      if (deadline.signal.aborted) {
        const limit = formatDuration(this.timeouts.headersMs);
        const waitingFor = `the response headers of ${method} ${this.redact(url)} (${limit})`;
        throw new TransientFailure(`no response headers within ${limit}`, { kind: 'timeout', waitingFor });
      }
      throw new TransientFailure(this.redact(`${method} ${url}: ${networkDetail(error)}`), { kind: 'unavailable' });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The whole body, failing when it stalls for `bodyIdleMs` or is dropped mid-way. */
  private async body(response: Response, what: string, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
    try {
      const described = `the body of ${what} from ${this.options.host}`;
      return await readBody(response, this.timeouts.bodyIdleMs, described, maxBytes);
    } catch (error) {
      if (error instanceof TransientFailure || this.options.signal?.aborted) throw error;
      const reason = this.redact(`${what}: the body broke off: ${networkDetail(error)}`);
      throw new TransientFailure(reason, { kind: 'unavailable' });
    }
  }

  private async errorText(response: Response, what: string): Promise<string> {
    try {
      return (await this.body(response, what)).toString('utf8').trim().slice(0, 300);
    } catch {
      return '';
    }
  }
}

/** Reads a whole body of at most `maxBytes`; each chunk must come within `idleMs`. */
async function readBody(response: Response, idleMs: number, what: string, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of streamBody(response.body.getReader(), idleMs, what)) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`${what} is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A body as chunks, each within `idleMs`; stopping early cancels the rest. */
async function* streamBody(reader: ChunkReader, idleMs: number, what: string): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const { done, value } = await readWithin(reader, idleMs, what);
      if (done) return;
      yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface ChunkReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

function readWithin(reader: ChunkReader, idleMs: number, what: string): ReturnType<ChunkReader['read']> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reader.cancel().catch(() => undefined);
      const waitingFor = `${what} (no data for ${formatDuration(idleMs)})`;
      reject(new TransientFailure(`the body stalled for ${formatDuration(idleMs)}`, { kind: 'timeout', waitingFor }));
    }, idleMs);
    reader.read().then(
      (result) => (clearTimeout(timer), resolve(result)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** `ECONNREFUSED`, `UND_ERR_SOCKET (other side closed)`, … from a fetch error and its cause. */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return cause?.message ?? (error as Error).message;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const m of (match[2] ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    if (m[1]) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return { scheme: match[1].toLowerCase(), params };
}

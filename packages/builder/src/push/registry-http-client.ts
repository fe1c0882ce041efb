import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { RegistryAuth } from '../engine/engine.js';
import { RegistryAuthError } from './errors.js';
import { TransientFailure } from './retry.js';

/** Manifest types we ask for, the Docker v2 schema first (what docker 20.10 pushes). */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface RegistryHttpClientOptions {
  /** `host[:port]`. */
  host: string;
  scheme: 'http' | 'https';
  auth?: RegistryAuth;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Redacts secrets out of registry error bodies. */
  redact?: (text: string) => string;
}

/**
 * A minimal Docker Registry HTTP API v2 client: reads manifest digests and tag lists. Handles Basic auth and the
 * Bearer token dance (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`). Stateful (token cache), hence a class.
 * Network failures and 5xx throw `TransientFailure`; 401/403 after authenticating throw `RegistryAuthError`.
 */
export class RegistryHttpClient {
  private readonly fetchFn: typeof fetch;
  private readonly tokens = new Map<string, string>();
  private readonly redact: (text: string) => string;

  constructor(private readonly options: RegistryHttpClientOptions) {
    this.fetchFn = options.fetch ?? fetch;
    this.redact = options.redact ?? ((t) => t);
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
    const body = Buffer.from(await get.arrayBuffer());
    return get.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** The manifest at `reference` (tag or digest) with its bytes, or `undefined` when there is none. */
  async getManifest(
    name: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined> {
    const response = await this.request('GET', `/v2/${name}/manifests/${reference}`, `repository:${name}:pull`, {
      Accept: MANIFEST_ACCEPT,
    });
    if (response.status === 404) return undefined;
    const body = Buffer.from(await response.arrayBuffer());
    const digest = response.headers.get('docker-content-digest') ?? sha256(body);
    return { digest, mediaType: response.headers.get('content-type') ?? '', body };
  }

  /** A small blob's bytes (a config, a report); more than `maxBytes` is refused. */
  async getBlob(name: string, digest: string, maxBytes: number): Promise<Buffer> {
    const response = await this.request('GET', `/v2/${name}/blobs/${digest}`, `repository:${name}:pull`, {});
    if (response.status === 404) throw new Error(`blob ${digest} of ${name} not found`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > maxBytes) {
      await response.body?.cancel();
      throw new Error(`blob ${digest} of ${name} is ${length} bytes, more than ${maxBytes}`);
    }
    return Buffer.from(await response.arrayBuffer());
  }

  /** Streams a blob (a layer); the whole download is bounded by `timeoutMs` (default 10 minutes). */
  async openBlob(name: string, digest: string, timeoutMs = 600_000): Promise<AsyncIterable<Buffer>> {
    const path = `/v2/${name}/blobs/${digest}`;
    const response = await this.request('GET', path, `repository:${name}:pull`, {}, { timeoutMs });
    if (response.status === 404 || !response.body) throw new Error(`blob ${digest} of ${name} not found`);
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
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
    const put = await this.request(
      'PUT',
      url.toString(),
      scope,
      { 'Content-Type': 'application/octet-stream' },
      {
        body: content,
      },
    );
    await put.body?.cancel();
    return digest;
  }

  /** Puts a manifest under `reference`; resolves with its digest. */
  async putManifest(name: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
    const path = `/v2/${name}/manifests/${reference}`;
    const put = await this.request(
      'PUT',
      path,
      `repository:${name}:pull,push`,
      { 'Content-Type': mediaType },
      { body },
    );
    await put.body?.cancel();
    return put.headers.get('docker-content-digest') ?? sha256(body);
  }

  /** The repository's tags, or `undefined` when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    const response = await this.request('GET', `/v2/${name}/tags/list`, `repository:${name}:pull`, {});
    if (response.status === 404) return undefined;
    const body = (await response.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  private get registry(): string {
    return this.options.host;
  }

  private basicHeader(): string | undefined {
    const auth = this.options.auth;
    if (!auth?.username || auth.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  private async request(
    method: string,
    path: string,
    scope: string,
    headers: Record<string, string>,
    init: SendInit = {},
  ): Promise<Response> {
    // An upload's Location may be absolute.
    const url = /^https?:\/\//.test(path) ? path : `${this.options.scheme}://${this.options.host}${path}`;
    const token = this.tokens.get(scope);
    const authorization = token ? `Bearer ${token}` : this.basicHeader();
    let response = await this.send(
      method,
      url,
      { ...headers, ...(authorization ? { Authorization: authorization } : {}) },
      init,
    );
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      await response.body?.cancel();
      if (challenge?.scheme === 'bearer' && challenge.params.realm) {
        const fresh = await this.fetchToken(challenge.params, scope);
        this.tokens.set(scope, fresh);
        response = await this.send(method, url, { ...headers, Authorization: `Bearer ${fresh}` }, init);
      } else if (!authorization && this.basicHeader()) {
        response = await this.send(method, url, { ...headers, Authorization: this.basicHeader() ?? '' }, init);
      }
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryAuthError(
        this.registry,
        this.options.auth?.username,
        `${method} ${path} → HTTP ${response.status}`,
      );
    }
    if (response.status >= 500 || response.status === 429) {
      const text = method === 'HEAD' ? '' : await safeText(response);
      throw new TransientFailure(this.redact(`${method} ${url} → HTTP ${response.status}${text ? `: ${text}` : ''}`));
    }
    if (!response.ok && response.status !== 404) {
      const text = method === 'HEAD' ? '' : await safeText(response);
      throw new Error(this.redact(`${method} ${url} → HTTP ${response.status}${text ? `: ${text}` : ''}`));
    }
    return response;
  }

  private async fetchToken(params: Record<string, string>, scope: string): Promise<string> {
    const realm = new URL(params.realm ?? '');
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? scope);
    const basic = this.basicHeader();
    const response = await this.send('GET', realm.toString(), basic ? { Authorization: basic } : {});
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryAuthError(
        this.registry,
        this.options.auth?.username,
        `token service ${realm.host} → HTTP ${response.status}`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      const reason = `token service ${realm.host} → HTTP ${response.status}`;
      if (response.status >= 500 || response.status === 429) throw new TransientFailure(reason);
      throw new Error(reason);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token service ${realm.host} returned no token`);
    return token;
  }

  private async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    init: SendInit = {},
  ): Promise<Response> {
    try {
      return await this.fetchFn(url, {
        method,
        headers,
        ...(init.body && { body: init.body }),
        signal: AbortSignal.timeout(init.timeoutMs ?? this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new TransientFailure(this.redact(`${method} ${url}: ${detail}`));
    }
  }
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

async function safeText(response: Response): Promise<string> {
  try {
    return (await response.text()).trim().slice(0, 300);
  } catch {
    return '';
  }
}

interface SendInit {
  body?: Buffer;
  /** The whole request including its body (default: the client's `timeoutMs`). */
  timeoutMs?: number;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

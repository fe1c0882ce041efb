import { createHash } from 'node:crypto';
import type { ArtifactRegistry } from '../../../packages/builder/src/push/image-artifacts.js';

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

export type RegistryOperation = 'getManifest' | 'manifestDigest' | 'getBlob' | 'putBlob' | 'putManifest';

/**
 * A registry in memory, content-addressed like distribution: manifests by digest, tags naming digests, blobs. Every
 * call is recorded (`calls`), and `fail` may answer any call with an error instead (a registry that dies mid-way).
 */
export interface MemoryRegistry extends ArtifactRegistry {
  manifestDigest(name: string, reference: string): Promise<string | undefined>;
  tags: Map<string, string>;
  manifests: Map<string, { mediaType: string; body: Buffer }>;
  blobs: Map<string, Buffer>;
  calls: string[];
  fail?: (operation: RegistryOperation, name: string, reference: string) => Error | undefined;
  /** Pushes an image (one config blob with `labels`, no layers) under `tag`; returns its manifest and config digests. */
  pushImage(name: string, tag: string, labels: Record<string, string>): { digest: string; configDigest: string };
  /** The digest `name:tag` names, or undefined. */
  digestOf(name: string, tag: string): string | undefined;
}

export function memoryRegistry(): MemoryRegistry {
  const registry: MemoryRegistry = {
    tags: new Map(),
    manifests: new Map(),
    blobs: new Map(),
    calls: [],
    digestOf: (name, tag) => registry.tags.get(`${name}:${tag}`),
    pushImage(name, tag, labels) {
      const config = Buffer.from(JSON.stringify({ created: '2020-01-01T00:00:00Z', config: { Labels: labels } }));
      const configDigest = sha256(config);
      registry.blobs.set(configDigest, config);
      const body = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_V2,
          config: {
            mediaType: 'application/vnd.docker.container.image.v1+json',
            digest: configDigest,
            size: config.length,
          },
          layers: [],
        }),
      );
      const digest = sha256(body);
      registry.manifests.set(digest, { mediaType: DOCKER_V2, body });
      registry.tags.set(`${name}:${tag}`, digest);
      return { digest, configDigest };
    },
    async getManifest(name, reference) {
      check('getManifest', name, reference);
      const digest = resolve(name, reference);
      const found = digest && registry.manifests.get(digest);
      return found ? { digest: digest as string, mediaType: found.mediaType, body: found.body } : undefined;
    },
    async manifestDigest(name, reference) {
      check('manifestDigest', name, reference);
      const digest = resolve(name, reference);
      return digest && registry.manifests.has(digest) ? digest : undefined;
    },
    async getBlob(name, digest) {
      check('getBlob', name, digest);
      const blob = registry.blobs.get(digest);
      if (!blob) throw new Error(`blob ${digest} of ${name} not found`);
      return blob;
    },
    async putBlob(name, content) {
      check('putBlob', name, sha256(content));
      registry.blobs.set(sha256(content), content);
      return sha256(content);
    },
    async putManifest(name, reference, mediaType, body) {
      check('putManifest', name, reference);
      const digest = sha256(body);
      registry.manifests.set(digest, { mediaType, body });
      if (!reference.startsWith('sha256:')) registry.tags.set(`${name}:${reference}`, digest);
      return digest;
    },
  };
  function resolve(name: string, reference: string): string | undefined {
    return reference.startsWith('sha256:') ? reference : registry.tags.get(`${name}:${reference}`);
  }
  function check(operation: RegistryOperation, name: string, reference: string): void {
    registry.calls.push(`${operation} ${name} ${reference}`);
    const error = registry.fail?.(operation, name, reference);
    if (error) throw error;
  }
  return registry;
}

/**
 * The registry API (`/v2/…`) over a memory registry, as `fetch`: what `RegistryHttpClient` sends for manifests, blobs
 * and monolithic uploads. `fail` answers a call with HTTP 500 (an error whose message starts with `drop`: the
 * connection drops). Every request is recorded in `requests` (`PUT /v2/app/manifests/latest`).
 */
export function memoryRegistryFetch(registry: MemoryRegistry, requests: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const body = init?.body ? Buffer.from(init.body as Uint8Array) : Buffer.alloc(0);
    const headers = new Headers(init?.headers);
    try {
      return await answer(registry, method, url, body, headers);
    } catch (error) {
      if ((error as Error).message.startsWith('drop')) throw new TypeError('fetch failed', { cause: error });
      return new Response(`{"errors":[{"message":"${(error as Error).message}"}]}`, { status: 500 });
    }
  }) as typeof fetch;
}

async function answer(registry: MemoryRegistry, method: string, url: URL, body: Buffer, headers: Headers) {
  const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
  const upload = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(url.pathname);
  if (manifest) {
    const [, name, reference] = manifest as unknown as [string, string, string];
    if (method === 'PUT') {
      const digest = await registry.putManifest(name, reference, headers.get('content-type') ?? '', body);
      return new Response(null, { status: 201, headers: { 'Docker-Content-Digest': digest } });
    }
    const found = await registry.getManifest(name, reference);
    if (!found) return new Response(null, { status: 404 });
    const answerHeaders = { 'Docker-Content-Digest': found.digest, 'Content-Type': found.mediaType };
    return new Response(method === 'HEAD' ? null : found.body, { status: 200, headers: answerHeaders });
  }
  if (blob && method === 'GET') {
    const [, name, digest] = blob as unknown as [string, string, string];
    const content = registry.blobs.get(digest) && (await registry.getBlob(name, digest, Infinity));
    if (!content) return new Response(null, { status: 404 });
    return new Response(content, { status: 200, headers: { 'Content-Length': String(content.length) } });
  }
  if (upload && method === 'POST') {
    return new Response(null, { status: 202, headers: { Location: `/v2/${upload[1]}/blobs/uploads/u1` } });
  }
  if (upload && method === 'PUT') {
    await registry.putBlob(upload[1] as string, body);
    return new Response(null, { status: 201 });
  }
  return new Response(null, { status: 404 });
}

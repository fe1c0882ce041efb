import type { Engine, EngineJsonMessage, ImageInspect, RegistryAuth } from '@4pass/builder';
import { EngineRequestError } from '@4pass/builder';

export const IMAGE_ID = `sha256:${'1'.repeat(64)}`;
export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** A push stream as the 20.10 daemon sends it for one new layer (or an existing one). */
export function pushStream(
  tag: string,
  digest: string,
  layer: 'Pushed' | 'Layer already exists' = 'Pushed',
): EngineJsonMessage[] {
  const lines: EngineJsonMessage[] = [
    { status: 'The push refers to repository [x]' },
    { status: 'Preparing', progressDetail: {}, id: 'l1' },
    { status: 'Preparing', progressDetail: {}, id: 'l2' },
  ];
  if (layer === 'Pushed') {
    lines.push({ status: 'Pushing', progressDetail: { current: 512, total: 1024 }, progress: '[=>  ]', id: 'l1' });
    lines.push({ status: 'Pushed', progressDetail: {}, id: 'l1' });
  } else {
    lines.push({ status: 'Layer already exists', progressDetail: {}, id: 'l1' });
  }
  lines.push({ status: 'Mounted from other/repo', progressDetail: {}, id: 'l2' });
  lines.push({ status: `${tag}: digest: ${digest} size: 942` });
  lines.push({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: 942 } });
  return lines;
}

export type PushScript = (call: {
  repo: string;
  tag: string;
  signal?: AbortSignal;
  n: number;
}) => EngineJsonMessage[] | Error;

export interface FakeEngine extends Engine {
  calls: string[];
  authSeen: string[];
  pushSignals: AbortSignal[];
  repoDigests: string[];
}

/** Only the methods pushImage uses; each call is recorded in order. */
export function fakeEngine(options: {
  checkAuth?: (n: number) => Error | undefined;
  push: PushScript;
  /** Add `<repo>@<digest>` to RepoDigests after each successful push (default true). */
  recordDigests?: boolean;
  /** The fake registry's content (`name:tag → digest`), updated by successful pushes. */
  registry?: Map<string, string>;
}): FakeEngine {
  let authCalls = 0;
  let pushCalls = 0;
  const engine = {
    calls: [] as string[],
    authSeen: [] as string[],
    pushSignals: [] as AbortSignal[],
    repoDigests: [] as string[],
    async checkAuth(auth: RegistryAuth) {
      engine.calls.push(`checkAuth ${auth.serveraddress}`);
      engine.authSeen.push(JSON.stringify(auth));
      const error = options.checkAuth?.(++authCalls);
      if (error) throw error;
    },
    async inspectImage(ref: string): Promise<ImageInspect | undefined> {
      engine.calls.push(`inspect ${ref}`);
      return {
        Id: IMAGE_ID,
        RepoTags: [],
        RepoDigests: [...engine.repoDigests],
        Created: '',
        Size: 1,
        RootFS: { Type: 'layers' },
        Config: {},
      };
    },
    async tagImage(ref: string, repo: string, tag: string) {
      engine.calls.push(`tag ${repo}:${tag}`);
    },
    async push(repo: string, tag: string, auth: RegistryAuth, signal?: AbortSignal) {
      engine.calls.push(`push ${repo}:${tag}`);
      engine.authSeen.push(JSON.stringify(auth));
      if (signal) engine.pushSignals.push(signal);
      const script = options.push({ repo, tag, signal, n: ++pushCalls });
      if (script instanceof Error) throw script;
      return (async function* () {
        for (const line of script) {
          if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
          const aux = line.aux as { Digest?: string } | undefined;
          if (aux?.Digest && options.recordDigests !== false) {
            const entry = `${repo}@${aux.Digest}`;
            if (!engine.repoDigests.includes(entry)) engine.repoDigests.push(entry);
          }
          if (aux?.Digest) options.registry?.set(`${repo.slice(repo.indexOf('/') + 1)}:${tag}`, aux.Digest);
          yield line;
        }
      })();
    },
  };
  return engine as unknown as FakeEngine;
}

export function authError(): EngineRequestError {
  return new EngineRequestError(
    'POST /auth (reg.example.com)',
    500,
    'login attempt to https://reg.example.com/v2/ failed with status: 401 Unauthorized',
  );
}

/**
 * A fetch that serves a registry's manifests from a map `name:tag → digest`, records requests, and takes manifest PUTs
 * (a manifest fetched by digest carries that digest in its body, so a PUT of it under a tag records the tag).
 */
export function fakeRegistryFetch(digests: Map<string, string>, requests: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    requests.push(`${method} ${url.toString()}`);
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!match) return new Response(null, { status: 404 });
    const [, name, reference] = match as unknown as [string, string, string];
    if (method === 'PUT') {
      const { digest } = JSON.parse(String(init?.body)) as { digest: string };
      digests.set(`${name}:${reference}`, digest);
      return new Response(null, { status: 201, headers: { 'Docker-Content-Digest': digest } });
    }
    const digest = reference.startsWith('sha256:') ? reference : digests.get(`${name}:${reference}`);
    if (!digest) return new Response(null, { status: 404 });
    const headers = {
      'Docker-Content-Digest': digest,
      'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
    };
    return new Response(method === 'HEAD' ? null : JSON.stringify({ digest }), { status: 200, headers });
  }) as typeof fetch;
}

/** What ECR's GetAuthorizationToken answers: user AWS with `password`, for `host`, valid 12 hours unless `expiresAt`. */
export function ecrTokenResponse(host: string, password: string, expiresAt = new Date(Date.now() + 12 * 3600_000)) {
  return {
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
        expiresAt,
        proxyEndpoint: `https://${host}`,
      },
    ],
  };
}

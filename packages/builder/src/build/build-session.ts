import { randomUUID } from 'node:crypto';
import type { EngineBuilds, RegistryAuth } from '../engine/engine.js';
import type { ContextRoot } from '../context/context-tree.js';
import { fileSyncHandler, type FileSyncTransfer } from './file-sync.js';
import { GrpcCode, GrpcStatusError, serveGrpc, type GrpcHandler, type GrpcUnaryHandler } from './serve-grpc.js';
import {
  decodeCredentialsRequest,
  decodeGetSecretRequest,
  encodeCredentialsResponse,
  encodeGetSecretResponse,
  encodeHealthCheckResponse,
  HEALTH_SERVING,
  SESSION_METHODS,
} from './session-wire.js';

/**
 * Our side of a BuildKit session over the Engine API: `POST /session` is upgraded to h2c and BuildKit, as the gRPC
 * client, calls the services we serve on that connection while a build that names the session runs. We serve:
 * - `moby.buildkit.secrets.v1.Secrets/GetSecret`: the values behind `RUN --mount=type=secret,id=…` (NotFound for an
 *   id we were not given: BuildKit then skips an optional mount and fails a `required=true` one);
 * - `moby.filesync.v1.Auth/Credentials`: registry credentials PER HOST (unlike dockerode's automatic session, which
 *   hands the same credentials to every registry); `FetchToken`/`GetTokenAuthority`/`VerifyTokenAuthority` answer
 *   Unimplemented, so BuildKit fetches registry tokens itself with those credentials;
 * - `grpc.health.v1.Health/Check`, which BuildKit polls every 5 s (two misses end the session);
 * - `moby.filesync.v1.FileSync/DiffCopy` when `dirs` are given: the build context and the Dockerfile's directory
 *   (build/file-sync.ts).
 */

/** What BuildKit asked for (ids and hosts only, never values). */
export type SessionRequest =
  { type: 'secret'; id: string; found: boolean } | { type: 'credentials'; host: string; found: boolean };

export interface BuildSessionOptions {
  engine: Pick<EngineBuilds, 'openSession'>;
  /** Secret id → value, for `RUN --mount=type=secret,id=<id>`. */
  secrets?: Readonly<Record<string, string | Uint8Array>>;
  /**
   * Registry credentials, each handed out only for its own `serveraddress` (`host[:port]`, with or without a scheme;
   * `docker.io` / `index.docker.io` mean Docker Hub, which BuildKit calls `registry-1.docker.io`). Hosts not listed get
   * no credentials (anonymous).
   */
  registryAuth?: readonly RegistryAuth[];
  /** Local directories BuildKit may read by name (`context`, `dockerfile`), with FileSync. */
  dirs?: ReadonlyMap<string, ContextRoot>;
  /** Keeps BuildKit's copy of `dirs` across builds (see `EngineSessionRequest.sharedKey`). */
  sharedKey?: string;
  onRequest?: (request: SessionRequest) => void;
  signal?: AbortSignal;
}

export interface BuildSession {
  /** Pass as the build's `sessionId`. */
  readonly id: string;
  /** Secret ids BuildKit asked for and we did not have, in order of first request. */
  readonly missingSecrets: readonly string[];
  /** What each FileSync call sent, in the order they ended. */
  readonly transfers: readonly FileSyncTransfer[];
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Ends the session (idempotent). Call it when the build ends, whatever the outcome. */
  close(): void;
}

/**
 * Opens a session on the engine and serves it until `close()`, the peer hangs up, or `signal` aborts.
 * @throws EngineRequestError / EngineUnavailableError when the engine refuses or does not answer `POST /session`.
 */
export async function openBuildSession(options: BuildSessionOptions): Promise<BuildSession> {
  const id = randomUUID();
  const missing: string[] = [];
  const transfers: FileSyncTransfer[] = [];
  const handlers: Map<string, GrpcHandler> = sessionHandlers(options, missing);
  if (options.dirs) {
    handlers.set(
      SESSION_METHODS.diffCopy,
      fileSyncHandler({ dirs: options.dirs, onTransfer: (t) => transfers.push(t) }),
    );
  }
  const socket = await options.engine.openSession({
    sessionId: id,
    name: '4pass-builder',
    methods: [...handlers.keys()],
    ...(options.sharedKey && { sharedKey: options.sharedKey }),
    ...(options.signal && { signal: options.signal }),
  });
  const connection = serveGrpc(socket, handlers);
  const onAbort = (): void => connection.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) connection.close();
  void connection.closed.then(() => options.signal?.removeEventListener('abort', onAbort));
  return {
    id,
    missingSecrets: missing,
    transfers,
    closed: connection.closed,
    get isClosed() {
      return connection.isClosed;
    },
    close: () => connection.close(),
  };
}

function sessionHandlers(options: BuildSessionOptions, missing: string[]): Map<string, GrpcUnaryHandler> {
  const secrets = new Map(
    Object.entries(options.secrets ?? {}).map(([id, value]) => [id, Buffer.from(value)] as const),
  );
  const credentials = new Map((options.registryAuth ?? []).map((auth) => [normaliseHost(auth.serveraddress), auth]));
  const unimplemented: GrpcUnaryHandler = () => {
    throw new GrpcStatusError(GrpcCode.unimplemented, 'not implemented: use Credentials');
  };
  return new Map<string, GrpcUnaryHandler>([
    [SESSION_METHODS.getSecret, (bytes) => getSecret(decodeGetSecretRequest(bytes).ID, secrets, missing, options)],
    [
      SESSION_METHODS.credentials,
      (bytes) => getCredentials(decodeCredentialsRequest(bytes).Host, credentials, options),
    ],
    [SESSION_METHODS.fetchToken, unimplemented],
    [SESSION_METHODS.getTokenAuthority, unimplemented],
    [SESSION_METHODS.verifyTokenAuthority, unimplemented],
    [SESSION_METHODS.healthCheck, () => encodeHealthCheckResponse(HEALTH_SERVING)],
  ]);
}

function getSecret(
  id: string,
  secrets: ReadonlyMap<string, Buffer>,
  missing: string[],
  options: BuildSessionOptions,
): Uint8Array {
  const value = secrets.get(id);
  options.onRequest?.({ type: 'secret', id, found: value !== undefined });
  if (value !== undefined) return encodeGetSecretResponse(value);
  if (!missing.includes(id)) missing.push(id);
  const known = [...secrets.keys()];
  throw new GrpcStatusError(
    GrpcCode.notFound,
    `secret "${id}" was not given to the build (given: ${known.length ? known.join(', ') : 'none'})`,
  );
}

function getCredentials(
  host: string,
  credentials: ReadonlyMap<string, RegistryAuth>,
  options: BuildSessionOptions,
): Uint8Array {
  const credential = credentials.get(normaliseHost(host));
  options.onRequest?.({ type: 'credentials', host, found: credential !== undefined });
  if (!credential) return encodeCredentialsResponse({ Username: '', Secret: '' });
  if (credential.identitytoken) return encodeCredentialsResponse({ Username: '', Secret: credential.identitytoken });
  return encodeCredentialsResponse({ Username: credential.username ?? '', Secret: credential.password ?? '' });
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `https://Index.Docker.io/v1/` → `registry-1.docker.io`; `http://127.0.0.1:5000/` → `127.0.0.1:5000`. */
export function normaliseHost(host: string): string {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/.*$/, '');
  return DOCKER_HUB.has(bare) ? 'registry-1.docker.io' : bare;
}

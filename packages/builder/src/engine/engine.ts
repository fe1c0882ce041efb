import type { Duplex, Readable } from 'node:stream';
import type { EngineApi, EngineVersion } from './api-version.js';
import type { EngineTls } from './read-tls-files.js';
import type { SshSettings } from './resolve-ssh-settings.js';

/**
 * A Docker engine as the rest of @4pass/builder sees it: one small interface per role — who it is
 * ({@link EngineIdentity}), builds ({@link EngineBuilds}), images ({@link EngineImages}), containers
 * ({@link EngineContainers}) and registry transfer ({@link EngineRegistry}) — and each stage asks only for the roles it
 * uses. Its one implementation, `DockerEngine` (engine/docker-engine.ts), is the only file that imports dockerode;
 * tests hand in one fake per role (test/unit/fakes/engine-fakes.ts).
 */
export interface Engine extends EngineIdentity, EngineBuilds, EngineImages, EngineContainers, EngineRegistry {}

/** Which engine this is, and the API it speaks. */
export interface EngineIdentity {
  /** Where the engine was found, e.g. `unix:///var/run/docker.sock`, and from which source (DOCKER_HOST, context…). */
  readonly address: string;
  readonly source: string;
  /** The engine's name in a pool (`engines[].name` in the config, `--engine NAME=ADDRESS`); unset for a lone engine. */
  readonly name?: string | undefined;
  /** Resolves when the engine answers `/_ping`; rejects with EngineUnavailableError otherwise. */
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;
  /**
   * The Engine API version agreed with the engine (negotiated on first use; every request speaks it) and the features
   * it offers. @throws {EngineApiVersionError} when the engine is too old or too new for us.
   */
  api(): Promise<EngineApi>;
}

/** BuildKit builds through the Engine API. */
export interface EngineBuilds {
  /** `POST /build?version=2`: resolves with the JSON-lines stream once the engine accepted the request. */
  build(request: EngineBuildRequest): Promise<AsyncIterable<EngineJsonMessage>>;
  /** `POST /build/cancel?id=`. Never throws for an unknown id. */
  cancelBuild(buildId: string): Promise<void>;
  /**
   * `POST /session` upgraded to h2c: resolves with the raw connection on which BuildKit calls the gRPC services the
   * caller serves (build/build-session.ts). Destroying the connection ends the session.
   */
  openSession(request: EngineSessionRequest): Promise<Duplex>;
}

/** The engine's images. */
export interface EngineImages {
  /** `GET /images/{ref}/json`, or `undefined` when the image does not exist. */
  inspectImage(ref: string): Promise<ImageInspect | undefined>;
  imageHistory(ref: string): Promise<ImageHistoryEntry[]>;
  /**
   * `GET /images/{ref}/get`: a docker-save tar stream. The engine writes the whole image before the first byte, so
   * `signal` stops the wait for it too.
   */
  exportImage(ref: string, signal?: AbortSignal): Promise<Readable>;
  /** `POST /images/load`: loads a docker-save tar (e.g. another engine's `exportImage`); resolves with what it loaded. */
  loadImage(tar: Readable, signal?: AbortSignal): Promise<string[]>;
  /** Pull `ref`; resolves false (never throws) when it cannot be pulled. */
  tryPull(ref: string, signal?: AbortSignal): Promise<boolean>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  /** Removes an image by id or tag; a missing image is not an error. */
  removeImage(ref: string, options?: { force?: boolean; noprune?: boolean }): Promise<void>;
  listImages(
    filters: Record<string, string[]>,
  ): Promise<{ id: string; repoTags: string[]; labels: Record<string, string> }[]>;
}

/** Containers: created, run, read and removed. */
export interface EngineContainers {
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerInspect | undefined>;
  /** Waits for the container to exit; resolves with its exit code. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number>;
  /** stdout and stderr, demultiplexed, as text. */
  containerLogs(id: string): Promise<{ stdout: string; stderr: string }>;
  /** Streams demultiplexed log chunks until the container stops or `signal` aborts. */
  followLogs(
    id: string,
    onChunk: (stream: 'stdout' | 'stderr', text: string) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /** `GET /containers/{id}/archive?path=`: a tar of that path. */
  getArchive(id: string, path: string): Promise<Readable>;
  /** `GET /containers/{id}/export`: a tar of the container's whole root filesystem (it need not have run). */
  exportContainer(id: string): Promise<Readable>;
  /**
   * `GET /containers/{id}/top?ps_args=`: the processes of a running container, as the engine host's `ps` lists them
   * (PIDs are the host's: match `State.Pid` of inspect to find the container's PID 1). No shell in the image needed.
   */
  topContainer(id: string, psArgs?: string): Promise<ContainerTop>;
  /** `POST /containers/{id}/exec` + start; resolves with exit code and output. */
  exec(
    id: string,
    cmd: string[],
    options?: { user?: string; env?: string[] },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Force-removes a container with its anonymous volumes; a missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  listContainers(
    filters: Record<string, string[]>,
  ): Promise<{ id: string; state: string; labels: Record<string, string> }[]>;
}

/** Images to a registry through the engine. */
export interface EngineRegistry {
  /** `POST /auth`: rejects with RegistryAuthError-compatible EngineRequestError on bad credentials. */
  checkAuth(auth: RegistryAuth): Promise<void>;
  /** `POST /images/{name}/push?tag=`: the JSON-lines progress stream. Always pushes exactly one tag. */
  push(repo: string, tag: string, auth: RegistryAuth, signal?: AbortSignal): Promise<AsyncIterable<EngineJsonMessage>>;
}

export interface EngineBuildRequest {
  /**
   * A tar stream of the build context, sent as the request body. Absent: the context and the Dockerfile come through
   * the session's FileSync (`remote=client-session`, as the Docker CLI sends them; needs `sessionId`).
   */
  context?: Readable;
  /** Path of the Dockerfile inside the context tar, or its name in the session's `dockerfile` directory. */
  dockerfile: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  networkMode?: string;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  /** Lets `cancelBuild` stop this build on the engine. */
  buildId: string;
  /** Registry images whose inline build cache BuildKit may use (`cachefrom`; refs only, e.g. `reg/app-cache:web`). */
  cacheFrom?: string[];
  /** An open session (`openSession`) that serves secrets and registry credentials to this build. */
  sessionId?: string;
  signal?: AbortSignal;
}

export interface EngineSessionRequest {
  /** Builds name it as `session=<id>`. */
  sessionId: string;
  /** Shown in the daemon's debug log. */
  name: string;
  /**
   * Names the client-side directories across sessions (the Docker CLI: a hash of the context's path): BuildKit keeps
   * what it last received under this key, so the next build's FileSync sends only what changed.
   */
  sharedKey?: string;
  /** Full gRPC method paths served, e.g. `/moby.buildkit.secrets.v1.Secrets/GetSecret`. */
  methods: readonly string[];
  signal?: AbortSignal;
}

/** One line of a JSON-lines response (build, push, pull). Field names are the daemon's. */
export interface EngineJsonMessage {
  id?: string;
  stream?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: unknown;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** The parts of `GET /images/{id}/json` we use (daemon field names). */
export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Architecture?: string;
  Os?: string;
  RootFS: { Type: string; Layers?: string[] };
  Config: {
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
    ExposedPorts?: Record<string, unknown> | null;
  };
}

export interface ImageHistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Comment: string;
  Size: number;
  Tags: string[] | null;
}

export interface ContainerSpec {
  image: string;
  name?: string;
  cmd?: string[];
  entrypoint?: string[];
  user?: string;
  env?: string[];
  labels?: Record<string, string>;
  readOnlyRootfs?: boolean;
  tmpfs?: Record<string, string>;
  /** `none` by default for measurements; `bridge` when the container must reach the network. */
  networkMode?: string;
  /** container port (e.g. "8000/tcp") → host port on 127.0.0.1 ("0" = any free port). */
  portBindings?: Record<string, string>;
  extraHosts?: string[];
  healthcheck?: { test: string[]; intervalMs?: number; timeoutMs?: number; startPeriodMs?: number; retries?: number };
}

export interface ContainerInspect {
  Id: string;
  State: {
    Status: string;
    /** The host PID of the container's PID 1 (0 when it is not running). */
    Pid?: number;
    Running: boolean;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; Log?: { Start: string; End: string; ExitCode: number; Output: string }[] };
  };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
  Config: { User?: string; Labels?: Record<string, string> };
}

/** `GET /containers/{id}/top` (daemon field names): one row per process, cells in `Titles` order. */
export interface ContainerTop {
  Titles: string[] | null;
  /** Null when the container has no processes left (it is exiting). */
  Processes: string[][] | null;
}

/** Registry credentials. Never logged, never put in an error message. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress: string;
  identitytoken?: string;
}

/** Where to reach an engine, resolved the way the Docker CLI does (docker/cli `resolveContextName`). */
export interface EngineEndpoint {
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`. */
  address: string;
  /** Which rule chose it: `option`, `DOCKER_HOST`, `DOCKER_CONTEXT=<name>`, `context <name> (config.json)`, `default`. */
  source: string;
  socketPath?: string;
  protocol?: 'http' | 'https' | 'ssh';
  host?: string;
  port?: string;
  username?: string;
  tls?: EngineTls;
  ssh?: SshSettings;
  /** Its name in a pool of engines. */
  name?: string;
}

/** How reports and errors name an engine: `b (tcp://10.0.0.5:2376)`, or its address when it has no name. */
export function engineLabel(engine: Pick<EngineIdentity, 'address' | 'name'>): string {
  return engine.name ? `${engine.name} (${engine.address})` : engine.address;
}

import type { GrowthRule, Rule } from './rule-schema.js';

/**
 * The config as the library uses it: `images.config.json` validated, `defaults` merged into each image, units parsed
 * (sizes in bytes, durations in ms), paths absolute. Declared here, read by people; the zod schema
 * (config-schema.ts) is typed against these, so the two cannot drift apart.
 */

/** The whole `images.config.json`, defaults merged and paths resolved. */
export interface ImagesConfig {
  /** Absolute path of the file it was read from (or the name given to `parseConfig`). */
  file: string;
  /** Where images are pushed; absent: no push destination configured. */
  registry?: RegistryConfig;
  /** The engine pool; absent: the one engine of DOCKER_HOST / the docker context / the local socket. */
  engines?: EngineConfig[];
  /** Build secrets every image's build may mount (`RUN --mount=type=secret,id=<id>`); never build args. */
  secrets: SecretsConfig;
  network: NetworkConfig;
  images: ImageConfig[];
}

/** One image of the config: paths absolute, defaults merged, units parsed. */
export interface ImageConfig {
  name: string;
  description?: string;
  /** The Dockerfile (absolute). */
  dockerfile: string;
  /** The build context directory (absolute). */
  context: string;
  target?: string;
  /** `worker`: builder → @4pass/optimizer → minimal runtime; `docker`: the Dockerfile as written. */
  pipeline: 'docker' | 'worker';
  buildArgs: Record<string, string>;
  /** Credential-looking build args accepted anyway (their values are redacted from every output). */
  allowSecretBuildArgs: string[];
  labels: Record<string, string>;
  /** The repository pushed to; default `4pass/<name>`. */
  repository?: string;
  tags?: string[];
  /** A registry build cache: `from` repositories read, `to` written (`<to>:<stage>`, pushed with the image). */
  cache?: { from: string[]; to?: string };
  /** Passed unchanged to @4pass/optimizer's `parseProfile`. */
  optimizer?: Record<string, unknown>;
  /** The image's Python source (absolute); the worker pipeline scans it for boto3 clients. */
  sourceDir?: string;
  /** Absent: start-up is not measured. */
  startup?: StartupConfig;
  /** Paths whose sizes are measured: the configured ones plus the keys of `budgets.pathSizes`. */
  paths: string[];
  /** What the image's SBOM lists besides its packages: every regular file under `files`, with its SHA-256. */
  sbom: { files: string[] };
  budgets: Budgets;
  structure: StructureConfig;
}

/** Budgets of one image. A missing key means "not configured" (no check); a rule with `enabled: false` gives `skip`. */
export interface Budgets {
  /** Uncompressed image size, bytes (max). */
  size?: Rule;
  /** Sum of gzip-compressed layer sizes as a registry stores them, bytes (max). */
  compressedSize?: Rule;
  /** Number of layers (max). */
  layers?: Rule;
  /** Container start → ready, median over the runs, ms (max). */
  startupMedian?: Rule;
  /** Container start → ready, 95th percentile (nearest rank), ms (max). */
  startupP95?: Rule;
  /** Bytes of files overwritten or deleted by later layers (max). */
  wastedBytes?: Rule;
  /** 1 − wasted / all layer bytes, in [0, 1] (min). */
  efficiency?: Rule;
  /** Bytes under a path of the final file tree (max), keyed by absolute path. */
  pathSizes: Record<string, Rule>;
  /** Growth against the baseline report (max). */
  growth?: GrowthRule;
}

/** Start-up measurement settings, defaults applied. */
export interface StartupConfig {
  ready: ReadyProbe;
  /** Measured runs (default 5). */
  runs: number;
  env: Record<string, string>;
  /** Whether the container gets a network (default false). */
  network: boolean;
  user?: string;
  /** A read-only root filesystem (default true). */
  readOnly: boolean;
  /** Regex over the container's output with a named group `ms` (or `s`): the in-container process time. */
  processTimePattern?: string;
  /** Overrides the image's CMD for the measurement. */
  cmd?: string[];
  /** Per run, start → ready (default 60 s). */
  timeoutMs: number;
  /** Interval of the image's HEALTHCHECK while measuring (default 100 ms). */
  healthcheckIntervalMs: number;
}

/** How the start-up measurement decides the container is ready. */
export type ReadyProbe =
  { kind: 'healthcheck' } | { kind: 'logPattern'; pattern: string } | { kind: 'command'; command: string[] };

/** Structure checks (see budgets/check-structure.ts). */
export interface StructureConfig {
  /**
   * `config`: the image config's User is not root; `runtime`: PID 1 runs as non-root (measured at start-up); `false`:
   * switched off.
   */
  nonRoot?: false | 'config' | 'runtime';
  healthcheck?: boolean;
  absentPaths: string[];
  presentPaths: string[];
  /** The exact set of botocore data services expected in the image (sorted). */
  botocoreServices?: string[];
  /** No credentials in ENV, labels or history (default true). */
  noSecrets: boolean;
  /** Every ELF file belongs to a package a scanner can see; default on for images built FROM scratch. */
  scannerVisible?: boolean;
}

/** Build secrets by id: each from an environment variable or a file (absolute once loaded). */
export type SecretsConfig = Record<string, { env: string } | { file: string }>;

/** Bounds of network waits (ms) and retries; absent keys take the documented defaults. */
export interface NetworkConfig {
  /** Until an answer starts: registry API requests and engine requests (default 30 s / 60 s). */
  requestTimeout?: number;
  /** Longest silence of the engine's push stream and of a registry response body. */
  idleTimeout?: number;
  /** Retries of a transient registry failure (default 3). */
  retries?: number;
}

/** Where images are pushed: any registry by `host`, or Amazon ECR by `region` (and `accountId`). */
export interface RegistryConfig {
  /** `host[:port]` of any registry. */
  host?: string;
  /** Amazon ECR: the region (default `AWS_REGION`). */
  region?: string;
  /** Amazon ECR: another account's registry (cross-account pushes). */
  accountId?: string;
}

/** One engine of the pool: images are spread over the engines, each built and measured on one. */
export interface EngineConfig {
  name: string;
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`. */
  host: string;
  /** Directory with ca.pem, cert.pem and key.pem; tcp:// only. */
  certPath?: string;
  /** Verify the engine's certificate (default true). */
  tlsVerify?: boolean;
}

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { Transform } from 'node:stream';
import type { ExtraEntry } from '../context/context-tree.js';
import { createBuildContext, type ContextPaths } from '../context/create-build-context.js';
import type { EngineBuildRequest, EngineBuilds, RegistryAuth } from '../engine/engine.js';
import { openBuildSession, type BuildSession } from './build-session.js';

/**
 * How the build context reaches the engine. `session` (the default, as the Docker CLI does it): BuildKit reads the
 * context and the Dockerfile's directory through the build's session (FileSync), asking only for what it needs and,
 * on a rebuild, only for files whose metadata changed; .dockerignore is applied by what we send. `tar`: the whole
 * context as the request body, for an engine that cannot take a session (and for comparisons); BuildKit on the
 * containerd image store before Engine 27.5 cannot read such a body (moby 47717).
 */
export type ContextTransportKind = 'session' | 'tar';

/** What the context cost to send. */
export interface ContextTransfer {
  transport: ContextTransportKind;
  /** Bytes we wrote for the context and Dockerfile (session: FileSync messages; tar: the body). */
  bytesSent: number;
  /** Files whose content was sent (session: the ones BuildKit asked for; tar: every file). */
  filesSent: number;
}

export interface ContextTransportOptions {
  engine: Pick<EngineBuilds, 'openSession'>;
  kind: ContextTransportKind;
  paths: ContextPaths;
  /** `target` of the build: builds of other targets keep their own copy of the context on the engine. */
  target: string | undefined;
  extraEntries: readonly ExtraEntry[] | undefined;
  /** A session is needed for these too (they work with either transport). */
  secrets: Readonly<Record<string, string | Uint8Array>> | undefined;
  needsSession: boolean;
  registryAuth: readonly RegistryAuth[];
  signal: AbortSignal | undefined;
}

/** The context's part of the build request, and the session that serves it (or secrets). */
export interface ContextTransport {
  request: Pick<EngineBuildRequest, 'context' | 'dockerfile' | 'sessionId'>;
  session: BuildSession | undefined;
  transfer(): ContextTransfer;
  /** Stops sending (the build ended or was stopped); idempotent. */
  close(): void;
}

/**
 * Prepares the context for one build.
 * @throws ContextError (tar) when a file cannot be read; EngineRequestError when the session is refused.
 */
export async function openContextTransport(options: ContextTransportOptions): Promise<ContextTransport> {
  return options.kind === 'session' ? sessionTransport(options) : tarTransport(options);
}

async function sessionTransport(options: ContextTransportOptions): Promise<ContextTransport> {
  const { contextDir, dockerfilePath } = options.paths;
  const session = await openBuildSession({
    engine: options.engine,
    ...(options.secrets && { secrets: options.secrets }),
    registryAuth: options.registryAuth,
    dirs: new Map([
      ['context', { dir: contextDir, ...(options.extraEntries && { extraEntries: options.extraEntries }) }],
      ['dockerfile', { dir: dirname(dockerfilePath) }],
    ]),
    sharedKey: sharedKey(contextDir, dockerfilePath, options.target),
    ...(options.signal && { signal: options.signal }),
  });
  return {
    request: { dockerfile: basename(dockerfilePath), sessionId: session.id },
    session,
    transfer: () => ({
      transport: 'session',
      bytesSent: session.transfers.reduce((sum, t) => sum + t.bytesSent, 0),
      filesSent: session.transfers.reduce((sum, t) => sum + t.files, 0),
    }),
    close: () => session.close(),
  };
}

async function tarTransport(options: ContextTransportOptions): Promise<ContextTransport> {
  const context = await createBuildContext({
    contextDir: options.paths.contextDir,
    dockerfile: options.paths.dockerfilePath,
    ...(options.extraEntries && { extraEntries: options.extraEntries }),
  });
  let bytesSent = 0;
  const counted = context.stream.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytesSent += chunk.length;
        done(null, chunk);
      },
    }),
  );
  let session: BuildSession | undefined;
  try {
    session = options.needsSession
      ? await openBuildSession({
          engine: options.engine,
          ...(options.secrets && { secrets: options.secrets }),
          registryAuth: options.registryAuth,
          ...(options.signal && { signal: options.signal }),
        })
      : undefined;
  } catch (error) {
    context.stream.destroy();
    throw error;
  }
  return {
    request: { context: counted, dockerfile: context.dockerfileInContext, ...(session && { sessionId: session.id }) },
    session,
    transfer: () => ({ transport: 'tar', bytesSent, filesSent: context.files.length }),
    close: () => {
      context.stream.destroy();
      counted.destroy();
      session?.close();
    },
  };
}

/**
 * BuildKit keeps the last context it received per (directory name, shared key). One key per context directory,
 * Dockerfile and target: builds of different targets ask for different files, and sharing one copy would make each
 * send again what the other removed. Made of paths only, never of contents.
 */
function sharedKey(contextDir: string, dockerfilePath: string, target: string | undefined): string {
  return createHash('sha256')
    .update([hostname(), contextDir, dockerfilePath, target ?? ''].join('\0'))
    .digest('hex');
}

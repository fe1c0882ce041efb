import { connectEngine, type Engine } from '@4pass/builder';
import { OFFICIAL_BASES } from './bases.js';
import { engine26Binaries, startSecondEngine, type ImageStore, type SecondEngine } from './second-engine.js';

/**
 * The engine matrix of issue 18: beside the host's engine (Docker 20.10 here), Debian 13's Docker Engine 26.1
 * (unpacked by `bash scripts/bootstrap.sh --test`) once with the classic image store and once with the containerd
 * image store. Used by the matrix engine test and by `pnpm bench engines`.
 */
export const MATRIX_ENGINES: readonly { name: string; store: ImageStore }[] = [
  { name: '26-classic', store: 'classic' },
  { name: '26-containerd', store: 'containerd' },
];

export interface MatrixEngine {
  name: string;
  /** `unix://…/docker.sock`: what DOCKER_HOST or `connectEngine({ host })` take. */
  address: string;
  engine: Engine;
  second: SecondEngine;
}

/** The base images the example Dockerfiles name, as `host` has them: the official name, else its local stand-in. */
export async function baseImages(host: Engine): Promise<string[]> {
  const refs: string[] = [];
  for (const [official, standIn] of Object.entries(OFFICIAL_BASES))
    refs.push((await host.inspectImage(official)) ? official : standIn);
  return refs;
}

/**
 * Starts Engine 26 with `store` beside the host's engine, with outbound NAT (the API image's npm and apt steps), and
 * loads the host's base images into it through the Engine API (no registry can be pulled from here). On failure
 * everything started is removed before the error is thrown.
 */
export async function startMatrixEngine(name: string, store: ImageStore, host: Engine): Promise<MatrixEngine> {
  const second = await startSecondEngine({ binaries: engine26Binaries(), store, outbound: true });
  try {
    const address = `unix://${second.socketPath}`;
    const engine = await connectEngine({ host: address, source: `engine matrix ${name}` });
    for (const ref of await baseImages(host)) await copyImage(host, engine, ref);
    return { name, address, engine, second };
  } catch (error) {
    await second.stop();
    throw error;
  }
}

/** `docker save | docker load` through the Engine API; throws unless the target names `ref` among what it loaded. */
export async function copyImage(from: Engine, to: Engine, ref: string): Promise<void> {
  const loaded = await to.loadImage(await from.exportImage(ref));
  if (!loaded.includes(ref)) throw new Error(`loading ${ref} gave ${JSON.stringify(loaded)}`);
}

/** Stops the engine and removes everything it left; throws naming what is still there. */
export async function stopMatrixEngine(matrix: MatrixEngine): Promise<void> {
  await matrix.second.stop();
  const left = matrix.second.leftovers();
  if (left.processes.length || left.mounts.length || left.bridge || left.rules.length)
    throw new Error(`engine ${matrix.name} (${matrix.second.dir}) left ${JSON.stringify(left)}`);
}

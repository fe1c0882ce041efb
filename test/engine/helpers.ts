import { randomBytes } from 'node:crypto';
import type { Engine } from '../../packages/builder/src/engine/engine.js';
import { connectEngine } from '../../packages/builder/src/engine/connection.js';
import { OFFICIAL_BASES } from '../../harness/bases.js';

export { OFFICIAL_BASES };

/** One id per test process: every image tag and container label a test makes carries it. */
export const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
export const testLabel = { 'org.4pass.test': runId };

/**
 * The first lines of a test Dockerfile on Python: it names the official image, as a user's would, and the library
 * resolves it (the official image when the engine has it or can pull it, else the stand-in; see `BuildResult.baseImages`).
 */
export const FROM_PYTHON = 'ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE}';

let shared: Engine | undefined;
export async function engine(): Promise<Engine> {
  shared ??= await connectEngine();
  return shared;
}

/** Removes every container this run labelled (force) — call in afterAll. */
export async function removeTestContainers(e: Engine): Promise<void> {
  const containers = await e.listContainers({ label: [`org.4pass.test=${runId}`] });
  await Promise.all(containers.map((c) => e.removeContainer(c.id)));
}

/** A base as the local engine has it: the official name when present (a CI runner), else the stand-in. */
export async function localBase(official: keyof typeof OFFICIAL_BASES): Promise<string> {
  return (await (await engine()).inspectImage(official)) ? official : OFFICIAL_BASES[official];
}

/** The Python base as the local engine has it. */
export const localPythonBase = (): Promise<string> => localBase('python:3.11-slim');

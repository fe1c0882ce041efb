import { randomBytes } from 'node:crypto';
import type { Engine } from '../../packages/builder/src/engine/engine.js';
import { connectEngine } from '../../packages/builder/src/engine/connection.js';

/** One id per test process: every image tag and container label a test makes carries it. */
export const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
export const testLabel = { 'org.4pass.test': runId };
export const PYTHON_BASE = '4pass-local/python:3.11-slim';

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

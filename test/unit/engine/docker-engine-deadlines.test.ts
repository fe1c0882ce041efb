import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../../packages/builder/src/engine/docker-engine.js';

/**
 * The engine adapter's deadlines against a fake Engine API on a unix socket whose answers start late: a request's
 * answer must start within `requestTimeoutMs`; an image export (which the engine sends only once it has written the
 * whole image) within 5× that.
 */
let dir: string;
let server: Server;
let engine: DockerEngine;
const LATE_MS = 300;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), '4pass-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  server = createServer((req, res) => {
    setTimeout(() => {
      const json = req.url?.includes('/history');
      res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-tar' });
      res.end(json ? '[]' : 'tar bytes');
    }, LATE_MS);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  engine = new DockerEngine({ address: `unix://${socketPath}`, source: 'test', socketPath }, { requestTimeoutMs: 100 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('DockerEngine deadlines', () => {
  it('a request whose answer starts after requestTimeoutMs fails with EngineTimeoutError naming it', async () => {
    await expect(engine.imageHistory('app')).rejects.toMatchObject({
      name: 'EngineTimeoutError',
      message: expect.stringContaining('GET /images/app/history') as unknown,
    });
  });

  it('an image export may start answering up to 5× requestTimeoutMs late', async () => {
    expect(await text(await engine.exportImage('app'))).toBe('tar bytes');
  });

  it("an abort stops the wait for the export at once, with the signal's reason", async () => {
    const reason = new Error('interrupted by SIGINT');
    const started = performance.now();
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    await expect(engine.exportImage('app', controller.signal)).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(LATE_MS);
  });
});

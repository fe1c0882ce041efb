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
    if (req.url === '/version') {
      // The API version is negotiated at once; every other answer starts late.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ ApiVersion: '1.45', MinAPIVersion: '1.24', Version: '26.1.5', Os: 'linux', Arch: 'amd64' }),
      );
      return;
    }
    setTimeout(() => {
      const json = req.url?.includes('/history');
      res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-tar' });
      res.end(json ? '[]' : 'tar bytes');
    }, LATE_MS);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  engine = new DockerEngine({ address: `unix://${socketPath}`, source: 'test', socketPath }, { requestTimeoutMs: 100 });
  // Negotiated once, before the deadlines are measured (a cold first connection can take longer than 100 ms).
  await engine.api().catch(() => engine.api());
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

  it('speaks the negotiated API version on every path', async () => {
    const paths: string[] = [];
    server.on('request', (req: { url?: string }) => paths.push(req.url ?? ''));
    await engine.exportImage('app');
    expect(paths).toEqual(['/v1.45/images/app/get']);
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

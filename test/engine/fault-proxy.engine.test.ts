import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, RegistryAuth } from '@4pass/builder';
import { createBuildContext } from '../../packages/builder/src/context/create-build-context.js';
import { RegistryHttpClient } from '../../packages/builder/src/push/registry-http-client.js';
import { engine as sharedEngine, runId, testLabel } from './helpers.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

/**
 * The fault proxy in front of the real registry, and the registry client's deadlines and failure kinds through it:
 * every mode must do what it says, or the fault suite proves nothing.
 */
let engine: Engine;
let registry: TestRegistry;
let proxy: FaultProxy;
let auth: RegistryAuth;
const name = `4pass-test/proxy-${runId}`;
let imageId: string | undefined;

beforeAll(async () => {
  engine = await sharedEngine();
  const password = `pw-${randomBytes(12).toString('hex')}`;
  registry = await startRegistry({ password });
  proxy = await startFaultProxy(registry.host);
  auth = { username: 'AWS', password, serveraddress: registry.host };
  // One tiny image in the registry (pushed straight, not through the proxy), so manifests and tag lists exist.
  const dir = await mkdtemp(join(tmpdir(), '4pass-proxy-'));
  await writeFile(join(dir, 'Dockerfile'), `FROM scratch\nLABEL org.4pass.test.proxy=${runId}\n`);
  const context = await createBuildContext({ contextDir: dir });
  const tag = `${registry.host}/${name}:v1`;
  const stream = await engine.build({
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildId: `${runId}-proxy`,
    tags: [tag],
    labels: testLabel,
  });
  for await (const m of stream) if (m.id === 'moby.image.id') imageId = (m.aux as { ID: string }).ID;
  for await (const m of await engine.push(`${registry.host}/${name}`, 'v1', auth))
    expect(m.errorDetail).toBeUndefined();
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  if (imageId) await engine.removeImage(imageId, { force: true });
  await proxy?.close();
  await registry?.dispose();
});

const client = (timeouts = { headersMs: 1500, bodyIdleMs: 1500 }) =>
  new RegistryHttpClient({ host: proxy.host, scheme: 'http', auth: { ...auth, serveraddress: proxy.host }, timeouts });

describe('the fault proxy in front of the real registry', () => {
  it('pass: the registry answers through it (auth, digests, tag lists)', async () => {
    proxy.setRules([]);
    expect(await client().listTags(name)).toEqual(['v1']);
    expect(await client().manifestDigest(name, 'v1')).toBe(await registry.manifestDigest(name, 'v1'));
    expect(proxy.requests.at(-1)).toMatchObject({ method: 'HEAD', mode: 'pass' });
  });

  it('500: a server error with its status (times: 1 → the next request passes)', async () => {
    proxy.setRules([{ path: /\/tags\/list$/, mode: '500', times: 1 }]);
    await expect(client().listTags(name)).rejects.toMatchObject({ kind: 'server', status: 500 });
    expect(await client().listTags(name)).toEqual(['v1']);
  });

  it('drop: the connection goes away → unavailable', async () => {
    proxy.setRules([{ path: /\/tags\/list$/, mode: 'drop' }]);
    const error = await client()
      .listTags(name)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransientFailure', kind: 'unavailable' });
  });

  it('hang: no headers ever → a timeout naming the request, within the deadline', async () => {
    proxy.setRules([{ method: 'HEAD', path: /\/manifests\//, mode: 'hang' }]);
    const started = Date.now();
    const error = await client({ headersMs: 400, bodyIdleMs: 400 })
      .manifestDigest(name, 'v1')
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toMatchObject({
      kind: 'timeout',
      waitingFor: `the response headers of HEAD http://${proxy.host}/v2/${name}/manifests/v1 (400 ms)`,
    });
    expect(proxy.hanging()).toBeGreaterThanOrEqual(1);
  });

  it('hang-body: headers, half a body, then silence → a timeout naming the body', async () => {
    proxy.setRules([{ method: 'GET', path: /\/tags\/list$/, mode: 'hang-body' }]);
    const started = Date.now();
    const error = await client({ headersMs: 400, bodyIdleMs: 400 })
      .listTags(name)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toMatchObject({
      kind: 'timeout',
      waitingFor: `the body of GET /v2/${name}/tags/list from ${proxy.host} (no data for 400 ms)`,
    });
  });
});

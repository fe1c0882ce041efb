import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryAuthError,
  RegistryUnavailableError,
  type Engine,
  type PushEvent,
  type PushResult,
} from '@4pass/builder';
import { pushImage } from '../../packages/builder/src/push/push-image.js';
import { engine, runId, testLabel } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

/** A minimal ustar archive (enough for a build context of a few small files). */
function tarOf(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Builds a tiny `FROM scratch` image (one file, unique label): no pulls, pushes in well under a second. */
async function buildTinyImage(e: Engine, tag: string, content: string): Promise<string> {
  const context = Readable.from([
    tarOf({
      Dockerfile: `FROM scratch\nCOPY payload.txt /payload.txt\nLABEL org.4pass.test.payload="${content}"\n`,
      'payload.txt': `${content}\n`,
    }),
  ]);
  const stream = await e.build({
    context,
    dockerfile: 'Dockerfile',
    tags: [tag],
    labels: testLabel,
    buildId: `${runId}-${randomBytes(4).toString('hex')}`,
  });
  let id: string | undefined;
  for await (const message of stream) {
    if (message.errorDetail || message.error)
      throw new Error(`build failed: ${message.errorDetail?.message ?? message.error}`);
    const aux = message.aux as { ID?: string } | undefined;
    if (message.id === 'moby.image.id' && aux?.ID) id = aux.ID;
  }
  const inspected = await e.inspectImage(tag);
  if (!inspected) throw new Error(`built image ${tag} not found`);
  expect(id === undefined || id === inspected.Id).toBe(true);
  return inspected.Id;
}

/** Everything a user could ever see: events, results, errors (with causes and hidden fields), as text. */
function everything(things: unknown[]): string {
  return things
    .map((t) => {
      let json = '';
      try {
        json = JSON.stringify(t, (_k, v: unknown) =>
          v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
        );
      } catch {
        json = '';
      }
      return `${json}\n${inspect(t, { depth: Infinity, showHidden: true })}\n${String(t)}`;
    })
    .join('\n');
}

describe('pushImage against a real registry (htpasswd, user AWS)', () => {
  let e: Engine;
  let registry: TestRegistry;
  const token = `tok-${randomBytes(24).toString('hex')}`;
  const seen: unknown[] = [];
  const imageIds: string[] = [];
  const repoName = (suffix: string) => `4pass-test/${runId}-${suffix}`;
  const shaA = `sha-${randomBytes(4).toString('hex').slice(0, 7)}`;
  let imageA: string;
  let imageB: string;

  const collect = (events: PushEvent[]) => (event: PushEvent) => {
    events.push(event);
    seen.push(event);
  };

  /** Pushes `image` with a wrong password (through `via`, default the real engine); returns what came back. */
  const pushWithWrongPassword = async (label: string, image: string, shaTag: string, via: Engine = e) => {
    const events: PushEvent[] = [];
    const name = repoName(label);
    const wrong = `${label}-${randomBytes(16).toString('hex')}`;
    const started = Date.now();
    const error = await pushImage({
      engine: via,
      image,
      repository: `${registry.host}/${name}`,
      tags: [shaTag, 'latest'],
      auth: { username: 'AWS', password: wrong, serveraddress: registry.host },
      onEvent: collect(events),
    }).catch((err: unknown) => err);
    const elapsed = Date.now() - started;
    seen.push(error);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(elapsed).toBeLessThan(10_000);
    expect(everything([error, events])).not.toContain(wrong);
    expect(await registry.listTags(name)).toBeUndefined();
    return { error, events, name };
  };

  beforeAll(async () => {
    e = await engine();
    registry = await startRegistry({ username: 'AWS', password: token });
    imageA = await buildTinyImage(e, `4pass-test/push-a:${runId}`, `a-${runId}-${randomBytes(8).toString('hex')}`);
    imageIds.push(imageA);
    imageB = await buildTinyImage(e, `4pass-test/push-b:${runId}`, `b-${runId}-${randomBytes(8).toString('hex')}`);
    imageIds.push(imageB);
    expect(imageA).not.toBe(imageB);
  });

  afterAll(async () => {
    try {
      // Force-removing by id drops every tag we created (local and registry-named).
      for (const id of imageIds) await e.removeImage(id, { force: true });
    } finally {
      await registry?.dispose();
    }
    // The no-secrets check over everything the run produced.
    const text = everything(seen);
    expect(text.length).toBeGreaterThan(100);
    expect(text).not.toContain(token);
    expect(text).not.toContain(Buffer.from(`AWS:${token}`).toString('base64'));
  });

  it('pushes the sha tag, then latest; both resolve to the same digest through the registry API', async () => {
    const events: PushEvent[] = [];
    const name = repoName('app');
    const result = await pushImage({
      engine: e,
      image: imageA,
      repository: `${registry.host}/${name}`,
      tags: [shaA, 'latest'],
      auth: { username: 'AWS', password: token, serveraddress: registry.host },
      onEvent: collect(events),
      retries: { max: 2, baseDelayMs: 100 },
    });
    seen.push(result);
    const shaDigest = await registry.manifestDigest(name, shaA);
    const latestDigest = await registry.manifestDigest(name, 'latest');
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(shaDigest).toBe(result.digest);
    expect(latestDigest).toBe(result.digest);
    expect(result.tags).toEqual([
      { tag: shaA, digest: result.digest, via: 'engine-push' },
      { tag: 'latest', digest: result.digest, via: 'registry-api' },
    ]);
    expect((await registry.listTags(name))?.sort()).toEqual(['latest', shaA].sort());
    expect(result.layers.pushed).toBeGreaterThanOrEqual(1);
    expect(result.layers.existing).toBe(0);
    // Order: auth checked, sha pushed and verified before latest moved.
    const order = events.map((ev) =>
      ev.type === 'tag-pushed' || ev.type === 'tag-pointed' ? `${ev.type}:${ev.tag}` : ev.type,
    );
    expect(order.indexOf('auth-ok')).toBeLessThan(order.indexOf(`tag-pushed:${shaA}`));
    expect(order.indexOf(`tag-pushed:${shaA}`)).toBeLessThan(order.indexOf('digest-verified'));
    expect(order.indexOf('digest-verified')).toBeLessThan(order.indexOf('tag-pointed:latest'));
    expect(events.some((ev) => ev.type === 'layer' && ev.status === 'Pushed')).toBe(true);
    const inspected = await e.inspectImage(imageA);
    expect(inspected?.RepoDigests).toContain(`${registry.host}/${name}@${result.digest}`);
  });

  it('an identical re-run pushes nothing and moves nothing', async () => {
    const events: PushEvent[] = [];
    const name = repoName('app');
    const before = await registry.manifestDigest(name, shaA);
    const result: PushResult = await pushImage({
      engine: e,
      image: imageA,
      repository: `${registry.host}/${name}`,
      tags: [shaA, 'latest'],
      auth: { username: 'AWS', password: token, serveraddress: registry.host },
      onEvent: collect(events),
    });
    seen.push(result);
    expect(result.digest).toBe(before);
    expect(result.tags).toEqual([
      { tag: shaA, digest: before, via: 'unchanged' },
      { tag: 'latest', digest: before, via: 'unchanged' },
    ]);
    expect(result.layers.pushed).toBe(0);
    expect(events.some((ev) => ev.type === 'push-start' || ev.type === 'tag-pointed')).toBe(false);
    expect(await registry.manifestDigest(name, 'latest')).toBe(before);
  });

  it('a wrong password fails within seconds with a clear error, and no tag is pushed', async () => {
    const { error, events, name } = await pushWithWrongPassword('wrong-password', imageA, 'sha-0000001');
    const message = (error as Error).message;
    expect(message).toContain(registry.host);
    expect(message).toMatch(/rejected the credentials of user "AWS"/);
    expect(events.filter((ev) => ev.type === 'push-start' || ev.type === 'retry')).toEqual([]);
    expect((await e.inspectImage(imageA))?.RepoTags ?? []).not.toContain(`${registry.host}/${name}:sha-0000001`);
  });

  it('credentials that pass /auth but fail during the push: RegistryAuthError within seconds, never retried', async () => {
    // Simulates a token revoked between the credential check and the push: the first /auth call is waved through,
    // later ones reach the real engine. The daemon then answers the upload's 401 with "Retrying in 5 seconds"…
    let waved = false;
    const revoked = new Proxy(e, {
      get(target, prop, receiver) {
        if (prop === 'checkAuth' && !waved) {
          return async () => {
            waved = true;
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const { events } = await pushWithWrongPassword('revoked', imageB, 'sha-0000002', revoked);
    expect(waved).toBe(true);
    expect(events.filter((ev) => ev.type === 'push-start')).toHaveLength(1);
    // docker-registry 2.8 + engine 20.10 report the 401 at once here; registries that make the daemon loop
    // ("Retrying in N seconds") are cut short after the first such line (unit-tested with a fake engine).
    const daemonRetries = events.filter((ev) => ev.type === 'daemon-retry').length;
    expect(daemonRetries).toBeLessThanOrEqual(1);
  });

  it('registry stopped after the sha push: clear error, latest untouched', async () => {
    const events: PushEvent[] = [];
    const name = repoName('midway');
    const auth = { username: 'AWS', password: token, serveraddress: registry.host };
    const first = await pushImage({
      engine: e,
      image: imageA,
      repository: `${registry.host}/${name}`,
      tags: [shaA, 'latest'],
      auth,
      onEvent: collect(events),
    });
    seen.push(first);
    const shaB = `sha-${randomBytes(4).toString('hex').slice(0, 7)}`;
    let stoppedAfter: string | undefined;
    const started = Date.now();
    const error = await pushImage({
      engine: e,
      image: imageB,
      repository: `${registry.host}/${name}`,
      tags: [shaB, 'latest'],
      auth,
      onEvent: collect(events),
      retries: { max: 2, baseDelayMs: 100 },
      beforePointingTags: async () => {
        stoppedAfter = events.filter((ev) => ev.type === 'digest-verified').at(-1)?.type;
        await registry.stop();
      },
    }).catch((err: unknown) => err);
    seen.push(error);
    expect(stoppedAfter).toBe('digest-verified');
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect((error as Error).message).toContain(`${registry.host}/${name}:latest`);
    expect((error as Error).message).toMatch(/unavailable \(3 attempts\)/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(events.filter((ev) => ev.type === 'retry').length).toBeGreaterThanOrEqual(2);

    await registry.start();
    const bDigest = (await e.inspectImage(imageB))?.RepoDigests?.find((d) => d.startsWith(`${registry.host}/${name}@`));
    expect(await registry.manifestDigest(name, shaB)).toBe(bDigest?.split('@')[1]);
    // latest still names image A.
    expect(await registry.manifestDigest(name, 'latest')).toBe(first.digest);
    expect(first.digest).not.toBe(bDigest?.split('@')[1]);
  });
});

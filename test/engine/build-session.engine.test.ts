import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '@4pass/builder';
import { decodeBuildkitTrace } from '../../packages/builder/src/buildkit/trace-wire.js';
import { TraceTracker } from '../../packages/builder/src/buildkit/trace-tracker.js';
import { createBuildContext } from '../../packages/builder/src/context/create-build-context.js';
import {
  openBuildSession,
  type BuildSession,
  type SessionRequest,
} from '../../packages/builder/src/buildkit/build-session.js';
import { engine as sharedEngine, localPythonBase, runId, testLabel } from './helpers.js';
import { startRegistry } from '../../harness/registry.js';

const PYTHON_BASE = await localPythonBase();

const repo = `4pass-test/session-${runId}`;
let engine: Engine;
const tmpDirs: string[] = [];

beforeAll(async () => {
  engine = await sharedEngine();
  expect(await engine.inspectImage(PYTHON_BASE)).toBeDefined();
});
afterAll(async () => {
  for (const image of await engine.listImages({ label: [`org.4pass.test=${runId}`] }))
    await engine.removeImage(image.id, { force: true });
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface Built {
  imageId: string | undefined;
  error: string | undefined;
  /** Every line the engine sent, raw, and every event we derived from it. */
  output: string;
}

/** Builds `dockerfile` (a context of that one file) naming `session`, the way buildImage does. */
async function build(dockerfile: string, sessionId: string | undefined, tag?: string, noCache = false): Promise<Built> {
  const dir = await mkdtemp(join(tmpdir(), '4pass-session-'));
  tmpDirs.push(dir);
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  const context = await createBuildContext({ contextDir: dir });
  const stream = await engine.build({
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildId: `${runId}-${randomBytes(4).toString('hex')}`,
    labels: testLabel,
    ...(tag && { tags: [tag] }),
    ...(sessionId && { sessionId }),
    noCache,
  });
  const tracker = new TraceTracker();
  const built: Built = { imageId: undefined, error: undefined, output: '' };
  for await (const message of stream) {
    built.output += `${JSON.stringify(message)}\n`;
    if (message.errorDetail || message.error) built.error = message.errorDetail?.message ?? message.error;
    if (message.id === 'moby.image.id') built.imageId = (message.aux as { ID: string }).ID;
    if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string')
      built.output += `${JSON.stringify(tracker.apply(decodeBuildkitTrace(message.aux)))}\n`;
  }
  return built;
}

/** True when `needle` occurs anywhere in the stream (chunks overlap so a split occurrence is found too). */
async function streamContains(stream: Readable, needles: string[]): Promise<boolean> {
  const longest = Math.max(...needles.map((n) => n.length));
  let tail = Buffer.alloc(0);
  let found = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const window = Buffer.concat([tail, chunk]);
    if (needles.some((n) => window.includes(n))) found = true;
    tail = window.subarray(Math.max(0, window.length - longest));
  }
  return found;
}

async function fileInImage(image: string, path: string): Promise<string> {
  const id = await engine.createContainer({ image, labels: testLabel, cmd: ['true'] });
  try {
    const tar = await engine.getArchive(id, path);
    const chunks: Buffer[] = [];
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
    const all = Buffer.concat(chunks);
    const size = parseInt(all.subarray(124, 136).toString('ascii').trim(), 8);
    return all.subarray(512, 512 + size).toString('utf8');
  } finally {
    await engine.removeContainer(id);
  }
}

describe('BuildKit session over POST /session (our gRPC server)', () => {
  const secret = `sv-${randomBytes(24).toString('hex')}`;
  const hash = createHash('sha256').update(secret).digest('hex');

  it('a RUN --mount=type=secret gets the value; it is in no layer, history entry, label or build output', async () => {
    const requests: SessionRequest[] = [];
    const session = await openBuildSession({ engine, secrets: { tok: secret }, onRequest: (r) => requests.push(r) });
    let built: Built;
    try {
      built = await build(
        `FROM ${PYTHON_BASE}\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -c1-64 > /tok.sha256\n`,
        session.id,
        `${repo}:secret`,
        true, // BuildKit does not key the cache on secret values: a cached step would never ask for it
      );
    } finally {
      session.close();
    }
    expect(built.error).toBeUndefined();
    expect(requests).toContainEqual({ type: 'secret', id: 'tok', found: true });
    const imageId = built.imageId ?? '';
    expect((await fileInImage(imageId, '/tok.sha256')).trim()).toBe(hash);

    const needles = [secret, Buffer.from(secret).toString('base64')];
    expect(await streamContains(await engine.exportImage(imageId), needles)).toBe(false);
    const history = JSON.stringify(await engine.imageHistory(imageId));
    const inspect = JSON.stringify(await engine.inspectImage(imageId));
    expect(history).toContain('/run/secrets/tok'); // the history is there, only the value is not
    for (const text of [history, inspect, built.output]) for (const n of needles) expect(text).not.toContain(n);
  });

  it('an unknown required secret id fails the build naming the id; the session records it', async () => {
    const session = await openBuildSession({ engine, secrets: { tok: secret } });
    let built: Built;
    try {
      built = await build(
        `FROM ${PYTHON_BASE}\nRUN --mount=type=secret,id=nope,required=true cat /run/secrets/nope\n`,
        session.id,
      );
    } finally {
      session.close();
    }
    expect(built.imageId).toBeUndefined();
    expect(built.error).toMatch(/secret nope not found/);
    expect(session.missingSecrets).toEqual(['nope']);
    expect(built.output).not.toContain(secret);
  });

  it('the session ends when closed: a later build naming it cannot get the secret', async () => {
    const session: BuildSession = await openBuildSession({ engine, secrets: { tok: secret } });
    session.close();
    await session.closed;
    const started = Date.now();
    const built = await build(
      `FROM ${PYTHON_BASE}\nRUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok\n`,
      session.id,
    );
    expect(built.imageId).toBeUndefined();
    expect(built.error).toBeDefined();
    expect(built.output).not.toContain(secret);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('registry credentials go to the host they belong to, and only there', async () => {
    const password = `pw-${randomBytes(16).toString('hex')}`;
    const registry = await startRegistry({ password });
    try {
      const source = `${registry.host}/4pass-test/base-${runId}`;
      const local = await build(`FROM scratch\nLABEL org.4pass.test.base=${runId}\n`, undefined, `${source}:v1`);
      const auth = { username: 'AWS', password, serveraddress: registry.host };
      for await (const m of await engine.push(source, 'v1', auth)) expect(m.errorDetail).toBeUndefined();
      await engine.removeImage(`${source}:v1`); // the next builds must pull it through the session's credentials
      expect(await engine.inspectImage(`${source}:v1`)).toBeUndefined();

      const dockerfile = `FROM ${source}:v1\nLABEL org.4pass.test.derived=${runId}\n`;
      const elsewhere = await openBuildSession({
        engine,
        registryAuth: [{ serveraddress: 'registry.example.com', username: 'AWS', password }],
      });
      const refused = await build(dockerfile, elsewhere.id).finally(() => elsewhere.close());
      expect(refused.error).toMatch(/401|unauthorized|authorization/i);

      const requests: SessionRequest[] = [];
      const right = await openBuildSession({
        engine,
        registryAuth: [auth],
        onRequest: (r) => requests.push(r),
      });
      const pulled = await build(dockerfile, right.id).finally(() => right.close());
      expect(pulled.error).toBeUndefined();
      expect(requests).toContainEqual({ type: 'credentials', host: registry.host, found: true });
      expect(`${refused.output}${pulled.output}`).not.toContain(password);
      if (local.imageId) await engine.removeImage(local.imageId, { force: true });
    } finally {
      await registry.dispose();
    }
  });
});

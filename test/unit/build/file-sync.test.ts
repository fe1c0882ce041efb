import { connect, type ClientHttp2Session } from 'node:http2';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import protobuf from 'protobufjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EngineSessionRequest } from '../../../packages/builder/src/engine/engine.js';
import { fakeBuilds } from '../fakes/engine-fakes.js';
import { openBuildSession, type BuildSession } from '../../../packages/builder/src/build/build-session.js';
import type { ContextRoot } from '../../../packages/builder/src/context/context-tree.js';
import { makeTree } from '../../fixtures/contexts/make-tree.js';
import { socketPair } from './socket-pair.js';

/** fsutil's Packet and Stat, defined here again so the test does not share the code's codec. */
const wire = protobuf.Root.fromJSON({
  nested: {
    Stat: {
      fields: {
        path: { type: 'string', id: 1 },
        mode: { type: 'uint32', id: 2 },
        size: { type: 'int64', id: 5 },
        modTime: { type: 'int64', id: 6 },
        linkname: { type: 'string', id: 7 },
      },
    },
    Packet: {
      fields: {
        type: { type: 'int32', id: 1 },
        stat: { type: 'Stat', id: 2 },
        ID: { type: 'uint32', id: 3 },
        data: { type: 'bytes', id: 4 },
      },
    },
  },
}).lookupType('Packet');
const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;

interface Packet {
  type: number;
  stat?: { path: string; mode: number; size: string; modTime: string; linkname: string };
  ID: number;
  data: Buffer;
}
const encode = (p: Partial<Packet>): Buffer => {
  const bytes = wire.encode(wire.create(p)).finish();
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), bytes])
    .fill(bytes.length, 4, 5)
    .fill(0, 1, 4);
};

/** The receiving side of fsutil's protocol, as BuildKit runs it: stats, requests for `want`, FIN. */
async function receive(
  client: ClientHttp2Session,
  headers: Record<string, string | string[]>,
  want: (path: string) => boolean,
): Promise<{ stats: NonNullable<Packet['stat']>[]; files: Map<string, Buffer>; status: number; message: string }> {
  const stream = client.request({
    ':method': 'POST',
    ':path': '/moby.filesync.v1.FileSync/DiffCopy',
    'content-type': 'application/grpc',
    ...headers,
  });
  const stats: NonNullable<Packet['stat']>[] = [];
  const files = new Map<string, Buffer>();
  const byId = new Map<number, string>();
  let trailers: Record<string, unknown> = {};
  stream.on('response', (h) => (trailers = { ...h }));
  stream.on('trailers', (t) => (trailers = { ...trailers, ...t }));
  let pending = Buffer.alloc(0);
  let open = 0;
  let statsDone = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      const packet = wire.toObject(wire.decode(pending.subarray(5, 5 + length)), {
        longs: String,
        defaults: true,
      }) as Packet;
      pending = pending.subarray(5 + length);
      if (packet.type === STAT && !packet.stat) statsDone = true;
      else if (packet.type === STAT && packet.stat) {
        const index = stats.push(packet.stat) - 1;
        if ((packet.stat.mode & 0xff000000) === 0 && want(packet.stat.path)) {
          byId.set(index, packet.stat.path);
          files.set(packet.stat.path, Buffer.alloc(0));
          open++;
          stream.write(encode({ type: REQ, ID: index }));
        }
      } else if (packet.type === DATA) {
        const path = byId.get(packet.ID) as string;
        if (packet.data.length === 0) open--;
        else files.set(path, Buffer.concat([files.get(path) as Buffer, packet.data]));
      }
      if (statsDone && open === 0 && packet.type !== FIN) stream.write(encode({ type: FIN }));
      if (packet.type === FIN) stream.end();
    }
  }
  return {
    stats,
    files,
    status: Number(trailers['grpc-status']),
    message: decodeURIComponent(String(trailers['grpc-message'] ?? '')),
  };
}

const opened: { session: BuildSession; client: ClientHttp2Session }[] = [];
const trees: string[] = [];
afterEach(() => {
  for (const { session, client } of opened.splice(0)) {
    session.close();
    client.destroy();
  }
});
afterAll(async () => Promise.all(trees.map((d) => rm(d, { recursive: true, force: true }))));

async function serve(dirs: Record<string, ContextRoot>) {
  const [ours, theirs] = await socketPair();
  const requests: EngineSessionRequest[] = [];
  const engine = fakeBuilds({
    openSession: async (request: EngineSessionRequest): Promise<Duplex> => (requests.push(request), ours),
  });
  const session = await openBuildSession({ engine, dirs: new Map(Object.entries(dirs)), sharedKey: 'k1' });
  const client = connect('http://buildkit', { createConnection: () => theirs });
  client.on('error', () => undefined);
  opened.push({ session, client });
  return { session, client, requests };
}

async function tree(spec: Parameters<typeof makeTree>[0]): Promise<string> {
  const dir = await makeTree(spec);
  trees.push(dir);
  return dir;
}

describe('FileSync (DiffCopy) over the build session', () => {
  it('announces DiffCopy and the shared key, sends stats in fsutil order and the files asked for', async () => {
    const dir = await tree({ 'a/1.txt': 'one', 'a-b.txt': 'ab', 'z.txt': 'zz', l: { symlink: 'a/1.txt' } });
    const { client, requests, session } = await serve({ context: { dir } });
    expect(requests[0]?.methods).toContain('/moby.filesync.v1.FileSync/DiffCopy');
    expect(requests[0]?.sharedKey).toBe('k1');
    const got = await receive(client, { 'dir-name': 'context' }, (p) => p !== 'z.txt');
    expect(got.status).toBe(0);
    expect(got.stats.map((s) => s.path)).toEqual(['a', 'a/1.txt', 'a-b.txt', 'l', 'z.txt']);
    expect(got.stats[0]?.mode).toBe(2 ** 31 + 0o755); // Go's ModeDir | perm
    expect(got.stats.find((s) => s.path === 'l')).toMatchObject({ mode: 2 ** 27 + 0o777, linkname: 'a/1.txt' });
    expect(Object.fromEntries([...got.files].map(([p, b]) => [p, b.toString()]))).toEqual({
      'a/1.txt': 'one',
      'a-b.txt': 'ab',
    });
    expect(session.transfers).toEqual([
      { dir: 'context', entries: 5, files: 2, fileBytes: 5, bytesSent: expect.any(Number) as number },
    ]);
  });

  it('applies the engine’s patterns: followpaths include (with their parents), exclude-patterns with exceptions', async () => {
    const dir = await tree({
      'app/main.py': 'x',
      'app/tests/t.py': 'x',
      'node_modules/m/i.js': 'x',
      'wheelhouse/a.whl': 'x',
      'README.md': 'x',
    });
    const { client } = await serve({ context: { dir } });
    const got = await receive(
      client,
      { 'dir-name': 'context', followpaths: ['app', 'wheelhouse'], 'exclude-patterns': ['**/tests', 'node_modules'] },
      () => false,
    );
    expect(got.stats.map((s) => s.path)).toEqual(['app', 'app/main.py', 'wheelhouse', 'wheelhouse/a.whl']);
    const only = await receive(client, { 'dir-name': 'context', followpaths: ['app/tests/t.py'] }, () => false);
    expect(only.stats.map((s) => s.path)).toEqual(['app', 'app/tests', 'app/tests/t.py']);
  });

  it('lays generated files and directories over the context; equal bytes give an equal time', async () => {
    const dir = await tree({ 'app/main.py': 'x', 'venv/stale.txt': 'old' });
    const venv = await tree({ 'lib/site.py': 'site' });
    const root = (content: string): ContextRoot => ({
      dir,
      extraEntries: [
        { path: 'venv', sourceDir: venv },
        { path: 'gen/info.json', content },
      ],
    });
    const a = await receive((await serve({ context: root('{"v":1}') })).client, { 'dir-name': 'context' }, () => true);
    const b = await receive((await serve({ context: root('{"v":1}') })).client, { 'dir-name': 'context' }, () => true);
    const c = await receive((await serve({ context: root('{"v":2}') })).client, { 'dir-name': 'context' }, () => true);
    expect(a.stats.map((s) => s.path)).toEqual([
      'app',
      'app/main.py',
      'gen',
      'gen/info.json',
      'venv',
      'venv/lib',
      'venv/lib/site.py',
    ]);
    const time = (r: typeof a) => r.stats.find((s) => s.path === 'gen/info.json')?.modTime;
    expect(time(a)).toBe(time(b));
    expect(time(c)).not.toBe(time(a));
    expect(a.files.get('gen/info.json')?.toString()).toBe('{"v":1}');
  });

  it('sends a changed modification time, so the engine asks for the file again', async () => {
    const dir = await tree({ 'a.txt': 'a' });
    const first = await receive((await serve({ context: { dir } })).client, { 'dir-name': 'context' }, () => false);
    await utimes(join(dir, 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await receive((await serve({ context: { dir } })).client, { 'dir-name': 'context' }, () => false);
    expect(second.stats[0]?.modTime).not.toBe(first.stats[0]?.modTime);
    expect(second.stats[0]?.modTime).toBe(String(BigInt(new Date(2001, 1, 1).getTime()) * 1_000_000n));
  });

  it('refuses a directory it was not given, naming it', async () => {
    const dir = await tree({ 'a.txt': 'a' });
    const { client } = await serve({ context: { dir } });
    const got = await receive(client, { 'dir-name': 'secrets' }, () => true);
    expect(got.status).toBe(5);
    expect(got.message).toBe('no access allowed to dir "secrets"');
  });

  it('fails the call naming a file that shrank after it was listed', async () => {
    const dir = await tree({ 'a.txt': 'aaaa' });
    const { client } = await serve({ context: { dir } });
    const { writeFile } = await import('node:fs/promises');
    const got = await receive(client, { 'dir-name': 'context' }, () => {
      void writeFile(join(dir, 'a.txt'), 'a');
      return true;
    });
    expect(got.status).not.toBe(0);
    expect(got.message).toContain('build context file a.txt changed while it was being sent');
  });
});

import { connect, type ClientHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineSessionRequest } from '../../../packages/builder/src/engine/engine.js';
import { fakeBuilds } from '../fakes/engine-fakes.js';
import {
  normaliseHost,
  openBuildSession,
  type BuildSession,
  type BuildSessionOptions,
  type SessionRequest,
} from '../../../packages/builder/src/build/build-session.js';
import { socketPair } from './socket-pair.js';

/** Hand-encoded protobuf: field 1 (and 2) as length-delimited strings, so the test does not share the code's codec. */
const pb = (...fields: string[]) =>
  Buffer.concat(
    fields.flatMap((value, i) => [Buffer.from([((i + 1) << 3) | 2, Buffer.byteLength(value)]), Buffer.from(value)]),
  );
const framed = (message: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

interface Answer {
  status: number;
  message: string;
  body: Buffer;
}

/** One unary call as BuildKit's gRPC client makes it. */
function call(client: ClientHttp2Session, path: string, message: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc' });
    const chunks: Buffer[] = [];
    let headers: Record<string, unknown> = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (headers = { ...headers, ...t }));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      resolve({
        status: Number(headers['grpc-status']),
        message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
        body: body.length >= 5 ? body.subarray(5) : body,
      });
    });
    stream.end(framed(message));
  });
}

const opened: { session: BuildSession; client: ClientHttp2Session }[] = [];

async function open(options: Omit<BuildSessionOptions, 'engine'>) {
  const [ours, theirs] = await socketPair();
  const requests: EngineSessionRequest[] = [];
  const engine = fakeBuilds({
    openSession: async (request: EngineSessionRequest): Promise<Duplex> => (requests.push(request), ours),
  });
  const session = await openBuildSession({ engine, ...options });
  const client = connect('http://buildkit', { createConnection: () => theirs });
  client.on('error', () => undefined);
  opened.push({ session, client });
  return { session, client, requests };
}

afterEach(() => {
  for (const { session, client } of opened.splice(0)) {
    session.close();
    client.destroy();
  }
});

describe('openBuildSession', () => {
  it('announces its methods to the engine and answers GetSecret with the value of a given id', async () => {
    const { client, requests, session } = await open({ secrets: { tok: 's3cr3t-value' } });
    expect(requests[0]?.sessionId).toBe(session.id);
    expect(requests[0]?.methods).toContain('/moby.buildkit.secrets.v1.Secrets/GetSecret');
    expect(requests[0]?.methods).toContain('/grpc.health.v1.Health/Check');
    const answer = await call(client, '/moby.buildkit.secrets.v1.Secrets/GetSecret', pb('tok'));
    expect(answer.status).toBe(0);
    expect(answer.body).toEqual(pb('s3cr3t-value'));
  });

  it('answers NotFound for an unknown id, records it, and never names the values it has', async () => {
    const seen: SessionRequest[] = [];
    const { client, session } = await open({ secrets: { tok: 's3cr3t-value' }, onRequest: (r) => seen.push(r) });
    const answer = await call(client, '/moby.buildkit.secrets.v1.Secrets/GetSecret', pb('nope'));
    expect(answer.status).toBe(5);
    expect(answer.message).toBe('secret "nope" was not given to the build (given: tok)');
    expect(answer.message).not.toContain('s3cr3t');
    expect(session.missingSecrets).toEqual(['nope']);
    expect(seen).toEqual([{ type: 'secret', id: 'nope', found: false }]);
  });

  it('hands registry credentials out per host, nothing for other hosts', async () => {
    const { client } = await open({
      registryAuth: [
        { serveraddress: '127.0.0.1:5000', username: 'AWS', password: 'pw-a' },
        { serveraddress: 'https://index.docker.io/v1/', identitytoken: 'hub-token' },
      ],
    });
    const credentials = (host: string) => call(client, '/moby.filesync.v1.Auth/Credentials', pb(host));
    expect((await credentials('127.0.0.1:5000')).body).toEqual(pb('AWS', 'pw-a'));
    expect((await credentials('registry-1.docker.io')).body).toEqual(
      Buffer.from([0x12, 9, ...Buffer.from('hub-token')]),
    );
    const other = await credentials('ghcr.io');
    expect(other.status).toBe(0);
    expect(other.body).toEqual(Buffer.alloc(0)); // both fields empty: anonymous
  });

  it('answers Unimplemented for token services (BuildKit falls back to Credentials) and unknown methods', async () => {
    const { client } = await open({});
    expect((await call(client, '/moby.filesync.v1.Auth/FetchToken', pb('x'))).status).toBe(12);
    expect((await call(client, '/moby.filesync.v1.Auth/GetTokenAuthority', pb('x'))).status).toBe(12);
    expect((await call(client, '/moby.sshforward.v1.SSH/CheckAgent', pb())).status).toBe(12);
  });

  it('reports SERVING to the health check BuildKit polls', async () => {
    const { client } = await open({});
    const answer = await call(client, '/grpc.health.v1.Health/Check', pb());
    expect(answer).toMatchObject({ status: 0, body: Buffer.from([0x08, 0x01]) });
  });

  it('close() and an aborted signal end the connection', async () => {
    const first = await open({});
    first.session.close();
    await first.session.closed;
    expect(first.session.isClosed).toBe(true);
    const controller = new AbortController();
    const second = await open({ signal: controller.signal });
    expect(second.session.isClosed).toBe(false);
    controller.abort();
    await second.session.closed;
    await expect(call(second.client, '/grpc.health.v1.Health/Check', pb())).rejects.toThrow();
  });
});

describe('normaliseHost', () => {
  it.each([
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['http://127.0.0.1:5000/', '127.0.0.1:5000'],
    ['docker.io', 'registry-1.docker.io'],
    ['https://index.docker.io/v1/', 'registry-1.docker.io'],
    ['123456789012.DKR.ECR.eu-west-1.amazonaws.com', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
  ])('%s → %s', (input, expected) => expect(normaliseHost(input)).toBe(expected));
});

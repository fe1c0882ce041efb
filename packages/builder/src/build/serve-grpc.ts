import { performServerHandshake, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { FourpassError } from '../errors/fourpass-error.js';

/**
 * A small gRPC server over one already-open connection (node:http2 + hand-written framing), which is all a BuildKit
 * session needs: the engine dials us over the hijacked `POST /session` connection and calls unary methods
 * (`GetSecret`, `Credentials`, `Health/Check`: one request → one response) and one bidirectional stream
 * (`FileSync/DiffCopy`: the build context, packet by packet both ways).
 * Wire format (grpc/grpc doc/PROTOCOL-HTTP2.md): a message is a 1-byte compressed flag, a 4-byte big-endian length and
 * the protobuf bytes; call metadata travels as request headers, the status in trailers (`grpc-status`,
 * percent-encoded `grpc-message`).
 */

/** gRPC status codes used here (grpc/grpc doc/statuscodes.md). */
export const GrpcCode = {
  ok: 0,
  cancelled: 1,
  invalidArgument: 3,
  notFound: 5,
  resourceExhausted: 8,
  unimplemented: 12,
  internal: 13,
} as const;

/** Thrown by a handler to answer with a status other than OK. `message` goes to the peer: never put a secret in it. */
export class GrpcStatusError extends FourpassError {
  override readonly name = 'GrpcStatusError' as const;
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Decoded request bytes in, encoded response bytes out. */
export type GrpcUnaryHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** One bidirectional call: the peer's messages as they arrive, `send` for ours (it waits while the peer is slow). */
export interface GrpcStreamCall {
  /** Request metadata (lower-case names; a name sent several times keeps every value, in order). */
  readonly metadata: ReadonlyMap<string, readonly string[]>;
  readonly messages: AsyncIterable<Uint8Array>;
  send(message: Uint8Array): Promise<void>;
  /** Aborted when the peer cancels the call or the connection goes. */
  readonly signal: AbortSignal;
}

/** Serves a streaming method; resolving ends the call with OK, a GrpcStatusError with its status. */
export interface GrpcStreamHandler {
  readonly stream: (call: GrpcStreamCall) => Promise<void>;
}

export type GrpcHandler = GrpcUnaryHandler | GrpcStreamHandler;

export interface GrpcConnection {
  /** Resolves once the connection is gone: closed by us, by the peer, or broken. */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Ends the connection at once (in-flight calls are dropped). Idempotent. */
  close(): void;
}

export interface ServeGrpcOptions {
  /** Messages above this size are refused with RESOURCE_EXHAUSTED (default 1 MiB; session requests are tiny). */
  maxMessageBytes?: number;
}

/** Serves `handlers` (full method path such as `/grpc.health.v1.Health/Check` → handler) on `socket`. */
export function serveGrpc(
  socket: Duplex,
  handlers: ReadonlyMap<string, GrpcHandler>,
  options: ServeGrpcOptions = {},
): GrpcConnection {
  const maxBytes = options.maxMessageBytes ?? 1024 * 1024;
  const session = performServerHandshake(socket);
  let isClosed = false;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const finish = (): void => {
    if (isClosed) return;
    isClosed = true;
    markClosed();
  };
  session.on('error', () => finish()); // a broken connection is a closed session; 'close' follows
  session.on('close', finish);
  socket.on('close', finish);
  session.on(
    'stream',
    (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
      void answer(stream, { headers, rawHeaders, handlers, maxBytes }),
  );
  return {
    closed,
    get isClosed() {
      return isClosed;
    },
    close() {
      finish();
      // Next tick: node:http2 feeds bytes the socket already buffered to a new session on the next tick and trips
      // over a session destroyed before that (Node 20: "Cannot read properties of undefined (reading 'receive')").
      process.nextTick(() => {
        session.destroy();
        socket.destroy();
      });
    },
  };
}

interface Incoming {
  headers: IncomingHttpHeaders;
  rawHeaders: readonly string[];
  handlers: ReadonlyMap<string, GrpcHandler>;
  maxBytes: number;
}

async function answer(stream: ServerHttp2Stream, incoming: Incoming): Promise<void> {
  stream.on('error', () => undefined); // the peer may reset a call; nothing to do
  const path = String(incoming.headers[':path'] ?? '');
  try {
    const handler = incoming.handlers.get(path);
    if (!handler) throw new GrpcStatusError(GrpcCode.unimplemented, `${path} is not served by this session`);
    if (typeof handler !== 'function') {
      await serveStream(stream, handler, incoming);
      sendStatus(stream, GrpcCode.ok, '');
      return;
    }
    const request = unframe(await readBody(stream, incoming.maxBytes));
    sendMessage(stream, await handler(request));
  } catch (error) {
    const status = error instanceof GrpcStatusError ? error : new GrpcStatusError(GrpcCode.internal, 'internal error');
    sendStatus(stream, status.code, status.message);
  }
}

async function serveStream(stream: ServerHttp2Stream, handler: GrpcStreamHandler, incoming: Incoming): Promise<void> {
  const abort = new AbortController();
  const cancel = (): void => abort.abort(new GrpcStatusError(GrpcCode.cancelled, 'the peer cancelled the call'));
  stream.once('close', cancel);
  stream.once('aborted', cancel);
  try {
    await handler.stream({
      metadata: metadataOf(incoming.rawHeaders),
      // Not destroyed when the handler stops reading: that would reset the call (RST_STREAM CANCEL) under the peer.
      messages: readMessages(stream.iterator({ destroyOnReturn: false }), incoming.maxBytes),
      send: (message) => writeMessage(stream, message),
      signal: abort.signal,
    });
  } finally {
    stream.off('close', cancel);
    stream.off('aborted', cancel);
    stream.resume(); // whatever the peer still sends, until it half-closes
  }
}

/** Request headers as gRPC metadata: pseudo-headers and the transport's own left out, every value kept. */
export function metadataOf(rawHeaders: readonly string[]): Map<string, string[]> {
  const metadata = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name.startsWith(':') || name === 'content-type' || name === 'te' || name.startsWith('grpc-')) continue;
    metadata.set(name, [...(metadata.get(name) ?? []), rawHeaders[i + 1] as string]);
  }
  return metadata;
}

/** The length-prefixed messages of a request stream, each checked against `maxBytes`. */
export async function* readMessages(source: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      if (pending[0] !== 0) throw new GrpcStatusError(GrpcCode.unimplemented, 'compressed messages are not supported');
      const length = pending.readUInt32BE(1);
      if (length > maxBytes) throw new GrpcStatusError(GrpcCode.resourceExhausted, `message above ${maxBytes} bytes`);
      if (pending.length < 5 + length) break;
      yield pending.subarray(5, 5 + length);
      pending = pending.subarray(5 + length);
    }
  }
  if (pending.length) throw new GrpcStatusError(GrpcCode.invalidArgument, 'the stream ended inside a message');
}

/** Sends one message of a streaming response (headers first), waiting while the peer's window is full. */
async function writeMessage(stream: ServerHttp2Stream, message: Uint8Array): Promise<void> {
  if (stream.destroyed || stream.closed) throw new GrpcStatusError(GrpcCode.cancelled, 'the call is closed');
  if (!stream.headersSent) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
  }
  if (stream.write(frame(message))) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

async function readBody(stream: ServerHttp2Stream, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes + 5) throw new GrpcStatusError(GrpcCode.resourceExhausted, `request above ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The one message of a unary request. */
export function unframe(body: Buffer): Uint8Array {
  if (body.length < 5) throw new GrpcStatusError(GrpcCode.invalidArgument, 'no gRPC message in the request');
  if (body[0] !== 0) throw new GrpcStatusError(GrpcCode.unimplemented, 'compressed messages are not supported');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) throw new GrpcStatusError(GrpcCode.invalidArgument, 'malformed gRPC message frame');
  return body.subarray(5);
}

/** A length-prefixed, uncompressed gRPC message. */
export function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function sendMessage(stream: ServerHttp2Stream, message: Uint8Array): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(GrpcCode.ok) }));
  stream.end(frame(message));
}

/** The call's status: in trailers after a streamed response, else as a trailers-only response. */
function sendStatus(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.closed) return;
  const status = { 'grpc-status': String(code), ...(message && { 'grpc-message': encodeGrpcMessage(message) }) };
  if (stream.headersSent) {
    stream.once('wantTrailers', () => stream.sendTrailers(status));
    stream.end();
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', ...status }, { endStream: true });
}

/** Percent-encodes what gRPC requires (bytes outside printable ASCII, and `%`). */
export function encodeGrpcMessage(message: string): string {
  return Array.from(Buffer.from(message, 'utf8'))
    .map((byte) =>
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

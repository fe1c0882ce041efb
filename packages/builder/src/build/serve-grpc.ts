import { performServerHandshake, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { FourpassError } from '../errors.js';

/**
 * A small gRPC server for UNARY calls over one already-open connection (node:http2 + hand-written framing), which is
 * all a BuildKit session needs: the engine dials us over the hijacked `POST /session` connection and calls
 * `GetSecret`, `Credentials` and `Health/Check`, each one request → one response.
 * Wire format (grpc/grpc doc/PROTOCOL-HTTP2.md): a message is a 1-byte compressed flag, a 4-byte big-endian length and
 * the protobuf bytes; the status travels in trailers (`grpc-status`, percent-encoded `grpc-message`).
 */

/** gRPC status codes used here (grpc/grpc doc/statuscodes.md). */
export const GrpcCode = {
  ok: 0,
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

export interface GrpcConnection {
  /** Resolves once the connection is gone: closed by us, by the peer, or broken. */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Ends the connection at once (in-flight calls are dropped). Idempotent. */
  close(): void;
}

export interface ServeGrpcOptions {
  /** Requests above this size are refused with RESOURCE_EXHAUSTED (default 1 MiB; session requests are tiny). */
  maxMessageBytes?: number;
}

/** Serves `handlers` (full method path such as `/grpc.health.v1.Health/Check` → handler) on `socket`. */
export function serveGrpc(
  socket: Duplex,
  handlers: ReadonlyMap<string, GrpcUnaryHandler>,
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
  session.on('stream', (stream, headers) => void answer(stream, headers, handlers, maxBytes));
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

async function answer(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  handlers: ReadonlyMap<string, GrpcUnaryHandler>,
  maxBytes: number,
): Promise<void> {
  stream.on('error', () => undefined); // the peer may reset a call; nothing to do
  const path = String(headers[':path'] ?? '');
  try {
    const handler = handlers.get(path);
    if (!handler) throw new GrpcStatusError(GrpcCode.unimplemented, `${path} is not served by this session`);
    const request = unframe(await readBody(stream, maxBytes));
    sendMessage(stream, await handler(request));
  } catch (error) {
    const status = error instanceof GrpcStatusError ? error : new GrpcStatusError(GrpcCode.internal, 'internal error');
    sendStatus(stream, status.code, status.message);
  }
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

/** A trailers-only response carrying a non-OK status. */
function sendStatus(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
    },
    { endStream: true },
  );
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

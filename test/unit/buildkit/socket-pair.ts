import { createConnection, createServer, type Socket } from 'node:net';

/** Two ends of a loopback TCP connection: ours (served by the session) and BuildKit's (the gRPC client). */
export async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = await new Promise<Socket>((resolve) => {
    const socket: Socket = createConnection(port, '127.0.0.1', () => resolve(socket));
  });
  const ours = await accepted;
  server.close();
  return [ours, client];
}

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A fault-injecting reverse proxy for tests, on 127.0.0.1 in front of a real registry (also on loopback). The engine
 * and our registry client talk to the proxy as if it were the registry (the Host header is passed through, so the
 * registry's upload URLs point back at the proxy). Each request takes the first rule whose method and path match:
 * - `pass`: forwarded unchanged;
 * - `500`: answered `500 Internal Server Error` (the request body is drained, nothing reaches the registry);
 * - `drop`: the connection is destroyed at once;
 * - `hang`: never answered (the request body is not read either, so an upload stalls too);
 * - `hang-body`: forwarded, then the response headers and the first half of the body are sent, and nothing more.
 * A rule with `times` applies to that many matching requests, then falls through to the next rule.
 */
export type FaultMode = 'pass' | '500' | 'drop' | 'hang' | 'hang-body';

export interface FaultRule {
  /** Upper-case method; any when absent. */
  method?: string;
  path: RegExp;
  mode: FaultMode;
  times?: number;
}

export interface FaultProxy {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Replaces the rules (requests no rule matches pass). */
  setRules(rules: FaultRule[]): void;
  /** Every request seen, in order, with the mode it got and when it arrived (`performance.now()`). */
  readonly requests: { method: string; path: string; mode: FaultMode; at: number }[];
  /** Requests being held by `hang` / `hang-body` right now. */
  hanging(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let rules: { rule: FaultRule; left: number }[] = [];
  const requests: FaultProxy['requests'] = [];
  const sockets = new Set<Socket>();
  const held = new Set<IncomingMessage>();
  const [targetHost, targetPort] = target.split(':');

  const pick = (req: IncomingMessage): FaultMode => {
    for (const entry of rules) {
      const { rule } = entry;
      if (rule.method && rule.method !== req.method) continue;
      if (!rule.path.test(req.url ?? '')) continue;
      if (entry.left <= 0) continue;
      entry.left--;
      return rule.mode;
    }
    return 'pass';
  };

  const forward = (req: IncomingMessage, res: ServerResponse, stallBody: boolean): void => {
    const upstream = httpRequest(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!stallBody) return void answer.pipe(res);
        held.add(req);
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))));
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const mode = pick(req);
    requests.push({ method: req.method ?? '', path: req.url ?? '', mode, at: performance.now() });
    if (mode === 'drop') return void req.socket.destroy();
    if (mode === 'hang') return void (held.add(req), req.pause());
    if (mode === '500') {
      req.resume();
      return void req.on('end', () => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"UNKNOWN","message":"fault injected by the test proxy"}]}\n');
      });
    }
    forward(req, res, mode === 'hang-body');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    host: `127.0.0.1:${port}`,
    setRules(next) {
      rules = next.map((rule) => ({ rule, left: rule.times ?? Infinity }));
    },
    requests,
    hanging: () => [...held].filter((req) => !req.socket.destroyed).length,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

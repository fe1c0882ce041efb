import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real Docker registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1 with htpasswd auth, started and
 * stopped by the tests. The engine treats 127.0.0.0/8 as insecure, so it speaks plain HTTP.
 */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  username: string;
  password: string;
  /** Stops the process (storage stays, so `start()` brings the same content back on the same port). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes the storage. */
  dispose(): Promise<void>;
  /** `GET /v2/<name>/tags/list` with basic auth: the tags, or `undefined` when the repository is unknown (404). */
  listTags(name: string): Promise<string[] | undefined>;
  /** `HEAD /v2/<name>/manifests/<tag>` with basic auth: `Docker-Content-Digest`, or `undefined` on 404. */
  manifestDigest(name: string, tag: string): Promise<string | undefined>;
  /** stdout+stderr of the registry process so far (for failure messages). */
  log(): string;
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function htpasswdLine(username: string, password: string): Promise<string> {
  // -i reads the password from stdin, so it never shows in a process listing.
  return new Promise((resolve, reject) => {
    const child = spawn('htpasswd', ['-Bni', username], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`htpasswd exited ${code}: ${err}`)),
    );
    child.stdin.end(password);
  });
}

/** Starts a registry that accepts `username`/`password` (basic auth, bcrypt htpasswd) and waits for `/v2/` → 401. */
export async function startRegistry(options: { username?: string; password: string }): Promise<TestRegistry> {
  const username = options.username ?? 'AWS';
  const dir = await mkdtemp(join(tmpdir(), '4pass-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(join(dir, 'htpasswd'), `${await htpasswdLine(username, options.password)}\n`);
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      'auth:',
      '  htpasswd:',
      '    realm: 4pass-test',
      `    path: ${join(dir, 'htpasswd')}`,
      '',
    ].join('\n'),
  );
  const basic = `Basic ${Buffer.from(`${username}:${options.password}`).toString('base64')}`;
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    const proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited ${proc.exitCode}:\n${output}`);
      try {
        const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 401) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
    });
  }

  await start();
  return {
    host,
    username,
    password: options.password,
    start,
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    async listTags(name) {
      const response = await fetch(`http://${host}/v2/${name}/tags/list`, { headers: { Authorization: basic } });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`tags/list → HTTP ${response.status}`);
      return ((await response.json()) as { tags: string[] | null }).tags ?? [];
    },
    async manifestDigest(name, tag) {
      const response = await fetch(`http://${host}/v2/${name}/manifests/${tag}`, {
        method: 'HEAD',
        headers: {
          Authorization: basic,
          // An index too: an engine with the containerd image store pushes one (a manifest per platform).
          Accept: [
            'application/vnd.docker.distribution.manifest.v2+json',
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.docker.distribution.manifest.list.v2+json',
            'application/vnd.oci.image.index.v1+json',
          ].join(', '),
        },
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`manifest HEAD → HTTP ${response.status}`);
      return response.headers.get('docker-content-digest') ?? undefined;
    },
    log: () => output,
  };
}

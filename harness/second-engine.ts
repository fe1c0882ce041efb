import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { delimiter, join, resolve } from 'node:path';
import { addRule, isAlive, leftovers, removeLeftovers, stopProcess, type HostLeftovers } from './host-processes.js';
import { freePort } from './registry.js';
import { makeCertificates, type TestCertificates } from './test-certificates.js';

/**
 * A second Docker engine beside the machine's own, as a remote engine would be: its own data root, exec root, pid
 * file, containerd, and bridge (created here with `ip link`, NEVER `--bridge none`, which would delete docker0),
 * listening on 127.0.0.1 over mutual TLS (certificates made here with openssl) and on a private unix socket (for
 * the sshd of ssh-server.ts). `--iptables=false --ip-masq=false`: it never touches the host's firewall, so its
 * containers have no outbound network (the worker builds offline from the wheelhouse) unless `outbound` adds NAT.
 * By default it is the host's own dockerd (Docker 20.10 here); `binaries` runs another one (Debian 13's Engine 26,
 * unpacked by `bootstrap.sh --test`), `store` chooses its image store.
 */
export interface SecondEngine {
  /** `tcp://127.0.0.1:<port>`. */
  address: string;
  port: number;
  /** The unix socket the same engine also listens on. */
  socketPath: string;
  certificates: TestCertificates;
  /** DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for this engine. */
  tlsEnv: Record<string, string>;
  dir: string;
  bridge: string;
  /** The image store it runs with (checked through `GET /info` at start). */
  store: ImageStore;
  /** `GET /info` over its unix socket: version, storage driver and its status (the containerd store's driver-type). */
  info(): Promise<EngineInfo>;
  log(): string;
  /** Stops dockerd (SIGTERM, then SIGKILL), removes leftovers, the bridge and the directory. */
  stop(): Promise<void>;
  /** What is still on the host (after stop: nothing). */
  leftovers(): HostLeftovers;
}

const PREFIX = '4pass-engine-';
const OWNER = 'owner.pid';

/** The fields of `GET /info` the harness and the matrix tests read. */
export interface EngineInfo {
  ServerVersion: string;
  Driver: string;
  DriverStatus: string[][] | null;
}

/** `classic`: graph drivers (overlay2), the default up to Engine 28; `containerd`: the containerd image store. */
export type ImageStore = 'classic' | 'containerd';

/**
 * Debian 13's Docker Engine 26.1 and containerd 1.7, unpacked (not installed) by `bash scripts/bootstrap.sh --test`.
 * In the checkout, so the tests find it whoever ran the bootstrap.
 */
export const ENGINE_26_DIR = resolve(import.meta.dirname, '../.cache/engines/debian-13');

/** {@link ENGINE_26_DIR} when its dockerd is there; otherwise throws, naming the command that fetches it. */
export function engine26Binaries(): string {
  if (existsSync(join(ENGINE_26_DIR, 'usr/sbin/dockerd'))) return ENGINE_26_DIR;
  throw new Error(`no Docker Engine 26 in ${ENGINE_26_DIR}: run \`bash scripts/bootstrap.sh --test\``);
}

export interface SecondEngineOptions {
  /**
   * Outbound network for its containers (builds that reach npm or Debian): a MASQUERADE rule for its bridge's subnet
   * and FORWARD rules for the bridge, marked with the engine's directory and removed with it. Default false.
   */
  outbound?: boolean;
  /**
   * A folder of unpacked engine packages (`usr/sbin/dockerd`, `usr/bin/containerd` and its shims, e.g.
   * {@link engine26Binaries}): its `usr/sbin` and `usr/bin` go first on dockerd's PATH, so dockerd starts its own
   * containerd and shims from there, and the host's runc after them. Default: the host's dockerd from PATH.
   */
  binaries?: string;
  /** The image store (`containerd`: `{"features":{"containerd-snapshotter":true}}`, Engine 24 and later). Default classic. */
  store?: ImageStore;
}

/** Starts the engine and waits until it answers; on failure removes everything and throws with its log. */
export async function startSecondEngine(options: SecondEngineOptions = {}): Promise<SecondEngine> {
  const dir = await mkdtemp(join('/tmp', PREFIX));
  const bridge = `4p${randomBytes(3).toString('hex')}`;
  await writeFile(join(dir, OWNER), String(process.pid));
  await writeFile(join(dir, 'bridge'), bridge);
  const cleanup = () => removeLeftovers(dir, bridge);
  process.once('exit', cleanup);
  try {
    const certificates = await makeCertificates(join(dir, 'certs'));
    const subnet = createBridge(bridge);
    if (options.outbound) allowOutbound(dir, bridge, subnet);
    const port = await freePort();
    const store = options.store ?? 'classic';
    const child = await spawnDockerd({ dir, bridge, port, certs: certificates, store, binaries: options.binaries });
    await waitForPing(join(dir, 'docker.sock'), child, dir);
    await checkStore(join(dir, 'docker.sock'), store);
    return handle({ dir, bridge, port, certificates, store }, child, cleanup);
  } catch (error) {
    const log = await readFile(join(dir, 'dockerd.log'), 'utf8').catch(() => '');
    cleanup();
    process.off('exit', cleanup);
    throw new Error(
      `the second engine did not start: ${(error as Error).message}\n${log.split('\n').slice(-30).join('\n')}`,
      {
        cause: error,
      },
    );
  }
}

interface Started {
  dir: string;
  bridge: string;
  port: number;
  certificates: TestCertificates;
  store: ImageStore;
}

function handle(started: Started, child: ChildProcess, cleanup: () => void): SecondEngine {
  const { dir, bridge, port, certificates, store } = started;
  const address = `tcp://127.0.0.1:${port}`;
  return {
    address,
    port,
    socketPath: join(dir, 'docker.sock'),
    certificates,
    tlsEnv: { DOCKER_HOST: address, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certificates.clientDir },
    dir,
    bridge,
    store,
    info: () => engineInfo(join(dir, 'docker.sock')),
    log: () => readFileSafe(join(dir, 'dockerd.log')),
    async stop() {
      await stopProcess(child, 30_000);
      cleanup();
      process.off('exit', cleanup);
    },
    leftovers: () => leftovers(dir, bridge),
  };
}

/** A /24 on 172.30.x.0 that no interface of this host uses yet. */
function freeSubnet(): string {
  const used = spawnSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).stdout;
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = 100 + Math.floor(Math.random() * 150);
    if (!used.includes(`172.30.${third}.`)) return `172.30.${third}.1/24`;
  }
  throw new Error('no free 172.30.x.0/24 subnet for the second engine’s bridge');
}

/** Creates the bridge; returns its address (`172.30.x.1/24`). */
function createBridge(name: string): string {
  const subnet = freeSubnet();
  for (const args of [
    ['link', 'add', name, 'type', 'bridge'],
    ['addr', 'add', subnet, 'dev', name],
    ['link', 'set', name, 'up'],
  ]) {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  }
  return subnet;
}

/** NAT for the bridge's subnet, as the first engine's own iptables rules do for docker0 (`--iptables=false` here). */
function allowOutbound(dir: string, bridge: string, subnet: string): void {
  const network = subnet.replace(/\.1\/24$/, '.0/24');
  addRule(dir, 'nat', ['-I', 'POSTROUTING', '-s', network, '!', '-o', bridge, '-j', 'MASQUERADE']);
  addRule(dir, 'filter', ['-I', 'FORWARD', '-i', bridge, '-j', 'ACCEPT']);
  addRule(dir, 'filter', [
    '-I',
    'FORWARD',
    '-o',
    bridge,
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  ]);
}

interface DockerdOptions {
  dir: string;
  bridge: string;
  port: number;
  certs: TestCertificates;
  store: ImageStore;
  binaries: string | undefined;
}

async function spawnDockerd({ dir, bridge, port, certs, store, binaries }: DockerdOptions): Promise<ChildProcess> {
  // Its own --config-file: never inherit /etc/docker/daemon.json (hosts, bridge, data-root of the first engine).
  const config = store === 'containerd' ? { features: { 'containerd-snapshotter': true } } : {};
  await writeFile(join(dir, 'daemon.json'), `${JSON.stringify(config)}\n`);
  const args = [
    `--config-file=${join(dir, 'daemon.json')}`,
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    `-H=tcp://127.0.0.1:${port}`,
    `-H=unix://${join(dir, 'docker.sock')}`,
    '--tlsverify',
    `--tlscacert=${certs.caCert}`,
    `--tlscert=${certs.serverCert}`,
    `--tlskey=${certs.serverKey}`,
    '--iptables=false',
    '--ip-masq=false',
    `--bridge=${bridge}`,
    '--log-level=warn',
  ];
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const dockerd = binaries ? join(binaries, 'usr/sbin/dockerd') : 'dockerd';
  const child = spawn(dockerd, args, { stdio: ['ignore', log, log], env: dockerdEnv(dir, binaries) });
  closeSync(log);
  return child;
}

/**
 * dockerd's environment: the binaries' folders first on PATH (its containerd, shims and docker-proxy; the host's runc
 * after them: Debian 13's needs a newer glibc than Debian 12's), the sbin folders a non-root PATH lacks, and a
 * TMPDIR inside its directory, so the temporary mounts of containerd and BuildKit are found and removed with it.
 */
function dockerdEnv(dir: string, binaries: string | undefined): NodeJS.ProcessEnv {
  const own = binaries ? [join(binaries, 'usr/sbin'), join(binaries, 'usr/bin')] : [];
  const path = [...own, ...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  return { ...process.env, PATH: [...new Set(path.filter(Boolean))].join(delimiter), TMPDIR: join(dir, 'tmp') };
}

/** Fails unless `GET /info` shows the store asked for (the containerd store reports driver-type io.containerd.snapshotter.v1). */
async function checkStore(socketPath: string, store: ImageStore): Promise<void> {
  const info = await engineInfo(socketPath);
  const snapshotter = (info.DriverStatus ?? []).some(([k, v]) => k === 'driver-type' && v === CONTAINERD_SNAPSHOTTER);
  if (snapshotter !== (store === 'containerd'))
    throw new Error(`asked for the ${store} image store, the engine reports ${JSON.stringify(info.DriverStatus)}`);
}

async function engineInfo(socketPath: string): Promise<EngineInfo> {
  return JSON.parse(await get(socketPath, '/info')) as EngineInfo;
}

export const CONTAINERD_SNAPSHOTTER = 'io.containerd.snapshotter.v1';

/** The body of a GET on the engine's unix socket; throws on any status but 200. */
function get(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path} → ${res.statusCode}: ${body}`)),
      );
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.end();
  });
}

async function waitForPing(socketPath: string, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}`);
    if (existsSync(socketPath) && (await ping(socketPath))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd (${dir}) did not answer /_ping within 60 s`);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Removes the second engines (and sshds) of test processes that died without cleaning up: directories
 * `/tmp/4pass-engine-*` whose owner process is gone. Another run's live engine is never touched.
 */
export function sweepOrphanedEngines(): string[] {
  const swept: string[] = [];
  for (const name of readdirSync('/tmp').filter((n) => n.startsWith(PREFIX))) {
    const dir = join('/tmp', name);
    const owner = Number(readFileSafe(join(dir, OWNER)));
    if (owner && isAlive(owner)) continue;
    removeLeftovers(dir, readFileSafe(join(dir, 'bridge')).trim());
    swept.push(dir);
  }
  return swept;
}

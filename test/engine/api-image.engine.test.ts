import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkerImage } from '@4pass/builder/internal';
import type { ContainerSpec, Engine, WorkerBuildResult } from '@4pass/builder';
import { engine as sharedEngine, removeTestContainers, runId, testLabel } from './helpers.js';

/**
 * Issue 7: the API image (Vue SPA built with Node → FastAPI under Gunicorn/Uvicorn) built as `pnpm build:images`
 * builds it (issue 12: its environment goes builder → optimizer → runtime with the API's optimizer profile),
 * then run like production: loopback port, engine health status, gosu hand-over, WEB_CONCURRENCY, secrets from a
 * Secrets Manager stand-in on the host, fail-fast when it is unreachable, read-only root filesystem.
 */

const root = resolve(import.meta.dirname, '../..');
const examples = join(root, 'examples');
const dockerfile = join(root, 'dockerfiles/api.Dockerfile');
const repo = `4pass-test/api-${runId}`;
const APP_UID = '10001';
const SECRET_ID = 'prod/market-api';

let engine: Engine;
let built: WorkerBuildResult;
const imageIds = new Set<string>();
const tmpDirs: string[] = [];

/** The API image as images.config.json builds it: the worker pipeline with the API's optimizer profile. */
async function buildApi(contextDir: string, tag: string): Promise<WorkerBuildResult> {
  const config = JSON.parse(await readFile(join(root, 'images.config.json'), 'utf8')) as {
    images: { name: string; pipeline?: string; optimizer?: Record<string, unknown> }[];
  };
  const api = config.images.find((i) => i.name === 'api');
  expect(api?.pipeline).toBe('worker');
  return buildWorkerImage({
    engine,
    contextDir,
    dockerfile,
    tags: [tag],
    labels: testLabel,
    profile: api?.optimizer ?? {},
    sourceDir: join(contextDir, 'api'),
    // A file of this run beside the optimizer in `.4pass/`: its step runs again and prints its report.
    extraEntries: [{ path: '.4pass/test-run', content: runId }],
  });
}

beforeAll(async () => {
  engine = await sharedEngine();
  built = await buildApi(examples, `${repo}:latest`);
  imageIds.add(built.imageId);
});

afterAll(async () => {
  await removeTestContainers(engine);
  for (const id of imageIds) await engine.removeImage(id, { force: true });
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

// --- helpers ----------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(spec: Omit<ContainerSpec, 'image' | 'labels'>): Promise<string> {
  const id = await engine.createContainer({ image: built.imageId, labels: testLabel, ...spec });
  await engine.startContainer(id);
  return id;
}

/** The image's own HEALTHCHECK command, polled every 500 ms instead of the image's 5 s so the test is quick. */
async function fastHealthcheck(): Promise<NonNullable<ContainerSpec['healthcheck']>> {
  const test = (await engine.inspectImage(built.imageId))?.Config.Healthcheck?.Test;
  expect(test?.[0]).toBe('CMD-SHELL');
  expect(test?.[1]).toContain('/health');
  return { test: test ?? [], intervalMs: 500, timeoutMs: 3000, startPeriodMs: 30_000, retries: 3 };
}

async function waitHealthy(id: string, timeoutMs = 90_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const state = (await engine.inspectContainer(id))?.State;
    if (!state?.Running) {
      const logs = await engine.containerLogs(id);
      throw new Error(`container exited (${state?.ExitCode}) before healthy:\n${logs.stdout}\n${logs.stderr}`);
    }
    if (state.Health?.Status === 'healthy') return Date.now() - started;
    if (state.Health?.Status === 'unhealthy') throw new Error(`unhealthy: ${JSON.stringify(state.Health.Log?.at(-1))}`);
    if (Date.now() - started > timeoutMs) throw new Error(`not healthy after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function hostPort(id: string): Promise<number> {
  const binding = (await engine.inspectContainer(id))?.NetworkSettings.Ports?.['8000/tcp']?.[0];
  expect(binding?.HostIp).toBe('127.0.0.1');
  return Number(binding?.HostPort);
}

async function sh(id: string, script: string, user?: string): Promise<string> {
  const result = await engine.exec(id, ['sh', '-c', script], user === undefined ? {} : { user });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

interface Proc {
  pid: number;
  ppid: number;
  uid: string;
  cmdline: string;
}

/** Every process in the container, from /proc (the image has no ps). */
async function processes(id: string): Promise<Proc[]> {
  const out = await sh(
    id,
    'for d in /proc/[0-9]*; do [ -r "$d/status" ] || continue; ' +
      'printf "%s\\t%s\\t%s\\t%s\\n" "${d#/proc/}" "$(awk \'/^PPid:/{print $2}\' $d/status)" ' +
      '"$(awk \'/^Uid:/{print $2}\' $d/status)" "$(tr "\\0" " " < $d/cmdline)"; done',
  );
  return out
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f) => f.length === 4 && f[1] !== '')
    .map(([pid, ppid, uid, cmdline]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      uid: uid ?? '',
      cmdline: cmdline ?? '',
    }));
}

async function expectGunicornTree(id: string, workers: number): Promise<Proc[]> {
  const procs = await processes(id);
  const pid1 = procs.find((p) => p.pid === 1);
  expect(pid1?.cmdline).toMatch(/\/opt\/venv\/bin\/gunicorn app\.main:app /);
  expect(pid1?.uid).toBe(APP_UID);
  const children = procs.filter((p) => p.ppid === 1);
  expect(children).toHaveLength(workers);
  for (const child of children) {
    expect(child.uid).toBe(APP_UID);
    expect(child.cmdline).toContain('gunicorn app.main:app');
  }
  // /etc/passwd maps the uid to appuser (gosu switched by name).
  expect(await sh(id, `awk -F: '$3 == ${APP_UID} {print $1}' /etc/passwd`)).toBe('appuser\n');
  return children;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function waitExit(id: string, timeoutMs = 60_000): Promise<number> {
  const signal = AbortSignal.timeout(timeoutMs);
  return engine.waitContainer(id, signal);
}

/** A Secrets Manager stand-in: answers GetSecretValue (JSON 1.1 protocol) for one secret id. */
interface FakeSecretsManager {
  server: Server;
  port: number;
  requests: { target: string | undefined; authorization: string | undefined; secretId: unknown }[];
  close(): Promise<void>;
}

async function fakeSecretsManager(secret: Record<string, string>): Promise<FakeSecretsManager> {
  const requests: FakeSecretsManager['requests'] = [];
  const body = async (req: IncomingMessage) => {
    let data = '';
    for await (const chunk of req) data += String(chunk);
    return data;
  };
  const server = createServer((req, res) => {
    void body(req).then((raw) => {
      const target = req.headers['x-amz-target'] as string | undefined;
      const input = JSON.parse(raw || '{}') as { SecretId?: unknown };
      requests.push({ target, authorization: req.headers.authorization, secretId: input.SecretId });
      res.setHeader('Content-Type', 'application/x-amz-json-1.1');
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        res.writeHead(400).end(JSON.stringify({ __type: 'InvalidAction', message: `unexpected ${target}` }));
      } else if (input.SecretId !== SECRET_ID) {
        res
          .writeHead(400)
          .end(
            JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the secret." }),
          );
      } else {
        res.writeHead(200).end(
          JSON.stringify({
            ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET_ID}-AbCdEf`,
            Name: SECRET_ID,
            VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
            SecretString: JSON.stringify(secret),
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1764201600,
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, port, requests, close: () => new Promise((r) => server.close(() => r())) };
}

const awsEnv = (endpoint: string) => [
  `APP_SECRETS_ID=${SECRET_ID}`,
  `AWS_ENDPOINT_URL_SECRETS_MANAGER=${endpoint}`,
  'AWS_REGION=us-east-1',
  'AWS_ACCESS_KEY_ID=AKIDTESTONLY',
  'AWS_SECRET_ACCESS_KEY=test-only-not-a-secret',
  'AWS_EC2_METADATA_DISABLED=true',
];

// --- tests ------------------------------------------------------------------------------------------------------

describe('API image (examples/ + dockerfiles/api.Dockerfile)', () => {
  it('is built from both stages with a health check, a fixed entrypoint and port 8000', async () => {
    const image = await engine.inspectImage(built.imageId);
    expect(image?.Config.Entrypoint).toEqual(['/usr/local/bin/entrypoint.sh']);
    expect(Object.keys(image?.Config.ExposedPorts ?? {})).toEqual(['8000/tcp']);
    const hc = image?.Config.Healthcheck;
    expect(hc?.Test?.join(' ')).toMatch(/curl -fsS .*http:\/\/127\.0\.0\.1:\$\{PORT:-8000\}\/health/);
    expect(hc?.Interval).toBeGreaterThan(0);
    expect(hc?.Timeout).toBeGreaterThan(0);
    expect(hc?.StartPeriod).toBeGreaterThan(0);
    // The SPA comes from the Node stage (history is stable; the build's step list depends on what BuildKit had cached).
    const history = (await engine.imageHistory(built.imageId)).map((h) => h.CreatedBy);
    expect(history.some((c) => c.includes('COPY /web/dist /app/dist'))).toBe(true);
    expect(history.some((c) => c.includes('apt-get install') && c.includes('curl gosu'))).toBe(true);
    expect(image?.Config.User ?? '').toBe(''); // starts as root only to hand over to appuser with gosu
  });

  it('has its environment through the optimizer: boto3 trimmed to its services, no installers, hash-based bytecode', async () => {
    expect(built.optimizer?.services.kept).toEqual(['secretsmanager', 'signin', 'sso', 'sso-oidc', 'sts']);
    expect(built.smoke?.passed).toBe(true);
    const program = [
      'import glob, importlib.util, os, sys',
      'import botocore, boto3, fastapi, gunicorn, uvicorn',
      "data = os.path.join(os.path.dirname(botocore.__file__), 'data')",
      "print('services', sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d))))",
      "print('importable', [m for m in ('pip', 'setuptools', 'wheel', 'pkg_resources') if importlib.util.find_spec(m)])",
      "pycs = glob.glob(sys.prefix + '/lib/python3*/site-packages/**/*.pyc', recursive=True)",
      "print('pyc', len(pycs), 'hash-based', all(int.from_bytes(open(p, 'rb').read(8)[4:8], 'little') & 1 for p in pycs))",
    ].join('\n');
    const id = await run({
      entrypoint: ['/opt/venv/bin/python', '-c', program],
      cmd: [],
      user: APP_UID,
      readOnlyRootfs: true,
    });
    expect(await waitExit(id)).toBe(0);
    const { stdout } = await engine.containerLogs(id);
    expect(stdout).toContain("services ['secretsmanager', 'signin', 'sso', 'sso-oidc', 'sts']");
    expect(stdout).toContain('importable []');
    expect(stdout).toMatch(/pyc [1-9]\d+ hash-based True/);
  });

  it('runs on a loopback port with a read-only root filesystem, becomes healthy and serves the SPA and the API', async () => {
    const id = await run({
      env: ['WEB_CONCURRENCY=3'],
      portBindings: { '8000/tcp': '0' },
      networkMode: 'bridge',
      readOnlyRootfs: true,
      tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
      healthcheck: await fastHealthcheck(),
    });
    await waitHealthy(id);
    const base = `http://127.0.0.1:${await hostPort(id)}`;

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    expect(html).toContain('<div id="app"></div>');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.some((a) => /\/assets\/index-[\w-]{8}\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /\/assets\/index-[\w-]{8}\.css$/.test(a))).toBe(true);
    for (const asset of assets) {
      const response = await fetch(`${base}${asset}`);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await fetch(`${base}/favicon.svg`)).status).toBe(200);

    // SPA fallback for client-side routes; unknown API paths stay JSON 404s.
    const deepLink = await fetch(`${base}/markets/AAPL?range=1y`);
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toBe(html);
    const missing = await fetch(`${base}/api/does-not-exist`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await fetch(`${base}/assets/index-nothere.js`)).status).toBe(404);

    const quotes = (await (await fetch(`${base}/api/quotes`)).json()) as { symbol: string; change_pct: number }[];
    expect(quotes.length).toBeGreaterThanOrEqual(5);
    expect(quotes.map((q) => q.symbol)).toContain('AAPL');
    const info = (await (await fetch(`${base}/api/info`)).json()) as { version: string; ppid: number };
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(info.ppid).toBe(1);
    expect(await (await fetch(`${base}/api/config`)).json()).toEqual({ secretsId: null, secretKeys: [] });

    // gosu hand-over: PID 1 is gunicorn as appuser, and so are its WEB_CONCURRENCY=3 workers.
    await expectGunicornTree(id, 3);
    // Nothing was written to the read-only root (the tmpfs is the only writable place and stays clean too).
    const write = await engine.exec(id, ['sh', '-c', 'touch /app/x'], { user: '0' });
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    await engine.removeContainer(id);
  });

  it('loads the Secrets Manager secret into the workers environment without ever logging a value', async () => {
    const secret = {
      DB_PASSWORD: `s3cr3t-${randomBytes(12).toString('hex')}`,
      API_TOKEN: `tok-${randomBytes(16).toString('base64url')}`,
    };
    const fake = await fakeSecretsManager(secret);
    const port = await freePort();
    try {
      // Host network keeps everything on loopback: the container reaches the fake at 127.0.0.1 and serves on PORT.
      const id = await run({
        env: [...awsEnv(`http://127.0.0.1:${fake.port}`), 'WEB_CONCURRENCY=2', `PORT=${port}`],
        networkMode: 'host',
        readOnlyRootfs: true,
        tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
        healthcheck: await fastHealthcheck(),
      });
      await waitHealthy(id);

      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]?.target).toBe('secretsmanager.GetSecretValue');
      expect(fake.requests[0]?.secretId).toBe(SECRET_ID);
      expect(fake.requests[0]?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDTESTONLY\/\d{8}\/us-east-1\/secretsmanager\//,
      );

      const config = await (await fetch(`http://127.0.0.1:${port}/api/config`)).json();
      expect(config).toEqual({ secretsId: SECRET_ID, secretKeys: ['API_TOKEN', 'DB_PASSWORD'] });

      // The values are in every worker's environment …
      const workers = await expectGunicornTree(id, 2);
      for (const worker of workers) {
        // As appuser: root in the container lacks CAP_SYS_PTRACE, which reading another uid's environ needs.
        const environ = (await sh(id, `tr '\\0' '\\n' < /proc/${worker.pid}/environ`, APP_UID)).split('\n');
        expect(environ).toContain(`DB_PASSWORD=${secret.DB_PASSWORD}`);
        expect(environ).toContain(`API_TOKEN=${secret.API_TOKEN}`);
        expect(environ).toContain('APP_SECRET_KEYS=API_TOKEN,DB_PASSWORD');
      }
      // … and nowhere in the logs (which do name the keys that were loaded).
      const logs = await engine.containerLogs(id);
      const all = logs.stdout + logs.stderr;
      expect(all).toContain(`loaded 2 keys from '${SECRET_ID}': API_TOKEN, DB_PASSWORD`);
      for (const value of Object.values(secret)) expect(all).not.toContain(value);
      await engine.removeContainer(id);
    } finally {
      await fake.close();
    }
  });

  it('exits non-zero with a clear message when the secret cannot be loaded', async () => {
    // Nothing listens on port 9 of the container's own loopback (network none): connection refused.
    const unreachable = await run({ env: awsEnv('http://127.0.0.1:9'), networkMode: 'none', readOnlyRootfs: true });
    expect(await waitExit(unreachable)).toBe(78);
    const logs = await engine.containerLogs(unreachable);
    expect(logs.stderr).toContain(
      `load_secrets: cannot load secret '${SECRET_ID}' from Secrets Manager: EndpointConnectionError`,
    );
    expect(logs.stdout).not.toMatch(/Booting worker|Listening at/);

    // The service answers, but with an AWS error: the message names the error code.
    const fake = await fakeSecretsManager({ DB_PASSWORD: 'never-used' });
    try {
      const notFound = await run({
        env: [...awsEnv(`http://127.0.0.1:${fake.port}`).map((e) => e.replace(SECRET_ID, 'prod/missing'))],
        networkMode: 'host',
        readOnlyRootfs: true,
      });
      expect(await waitExit(notFound)).toBe(78);
      const nfLogs = await engine.containerLogs(notFound);
      expect(nfLogs.stderr).toContain(
        "cannot load secret 'prod/missing' from Secrets Manager: ResourceNotFoundException",
      );
    } finally {
      await fake.close();
    }
  });

  it('rebuilds after a one-line Python change reusing the Node stage and the dependency layers', async () => {
    const copy = await mkdtemp(join(tmpdir(), '4pass-api-ctx-'));
    tmpDirs.push(copy);
    const skip = ['web/node_modules', 'web/dist', 'optimized-venv'].map((p) => join(examples, p));
    await cp(examples, copy, {
      recursive: true,
      filter: (src) =>
        !skip.some((s) => src === s || src.startsWith(s + sep)) && !relative(examples, src).includes('__pycache__'),
    });
    const tag = `${repo}:rebuild`;
    const first = await buildApi(copy, tag);
    imageIds.add(first.imageId);

    const main = join(copy, 'api/app/main.py');
    await writeFile(main, `${await readFile(main, 'utf8')}\n# rebuild marker ${runId}\n`);
    const second = await buildApi(copy, tag);
    imageIds.add(second.imageId);

    expect(second.imageId).not.toBe(first.imageId);
    expect(second.steps.find((s) => s.name.includes('python3 -m venv /opt/venv'))?.cached).toBe(true);
    expect(second.stages.filter((s) => !s.cached).map((s) => s.stage)).toEqual(['runtime']);
    const step = (needle: string) => {
      const found = second.steps.filter((s) => s.name.includes(needle));
      expect(found, needle).toHaveLength(1);
      return found[0];
    };
    for (const needle of ['npm ci', 'vite build', 'apt-get install', 'COPY --from=compile-venv', 'COPY --from=web']) {
      expect(step(needle)?.cached, needle).toBe(true);
    }
    expect(step('COPY api/app /app/app')?.cached).toBe(false);
    expect(step('compileall -q --invalidation-mode checked-hash /app/app')?.cached).toBe(false);
    // Only the app layers ran: everything before them came from the cache (FROM is resolved, never "cached").
    const ran = second.steps
      .filter((s) => !s.cached && /^\[(web|runtime) /.test(s.name) && !/^\[\w+ 1\/\d+\] FROM /.test(s.name))
      .map((s) => s.name);
    expect(ran.filter((n) => !n.startsWith('[runtime '))).toEqual([]);
    expect(ran.length).toBeLessThanOrEqual(3);
  });
});

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWorkerImage,
  inspectImage,
  parseConfig,
  renderHtmlReport,
  BuildCanceledError,
  ServiceUsageError,
  type Engine,
  type WorkerBuildResult,
  type WorkerEvent,
} from '@4pass/builder/internal';
import { buildGateReport, evaluateImage } from '../../packages/builder/src/report/evaluate-image.js';
import { resolveTreePath } from '../../packages/builder/src/inspect/resolve-tree-path.js';
import { openHtml, screenshot } from '../browser/chromium.js';
import { execa } from '../../harness/exec.js';
import { engine as getEngine, runId, testLabel } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = join(root, 'dockerfiles/worker.Dockerfile');
const tag = `4pass-test/worker:${runId}`;

/** The worker's optimizer profile as images.config.json has it: the minimal runtime (a `closure`). */
async function workerProfile(): Promise<Record<string, unknown>> {
  const config = JSON.parse(await readFile(join(root, 'images.config.json'), 'utf8')) as {
    images: { name: string; optimizer?: Record<string, unknown> }[];
  };
  const profile = config.images.find((i) => i.name === 'worker')?.optimizer;
  expect(profile?.closure).toBeDefined();
  return profile ?? {};
}

async function leftovers(engine: Engine) {
  const containers = await engine.listContainers({ label: ['org.4pass.role'] });
  const dangling = await engine.listImages({ dangling: ['true'] });
  return { containers: containers.map((c) => c.id).sort(), dangling: dangling.map((i) => i.id).sort() };
}

/** Runs a Python program inside the image as its runtime user, read-only root, no network; always removed. */
async function runInImage(engine: Engine, image: string, program: string, user?: string, env?: string[]) {
  const id = await engine.createContainer({
    image,
    entrypoint: ['/opt/venv/bin/python', '-c', program],
    cmd: [],
    ...(user && { user }),
    ...(env && { env }),
    readOnlyRootfs: true,
    tmpfs: { '/tmp': 'rw,size=16m' },
    networkMode: 'none',
    labels: testLabel,
  });
  try {
    await engine.startContainer(id);
    const exitCode = await engine.waitContainer(id);
    const logs = await engine.containerLogs(id);
    return { exitCode, output: logs.stdout + logs.stderr };
  } finally {
    await engine.removeContainer(id);
  }
}

/**
 * Inside the image: a TLS server on loopback with a certificate from a throwaway CA. The default context (the image's
 * CA bundle) must refuse it; with the throwaway CA added it must connect and check the host name.
 */
const TLS_PROGRAM = `
import os, socket, ssl, tempfile, threading
files = {}
for name in ("TLS_CERT", "TLS_KEY", "TLS_CA"):
    f = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
    f.write(os.environ[name]); f.close(); files[name] = f.name
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(files["TLS_CERT"], files["TLS_KEY"])
listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
def serve():
    for _ in range(2):
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            pass
threading.Thread(target=serve, daemon=True).start()
def connect(ctx):
    with socket.create_connection(("127.0.0.1", port)) as raw, ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        return f"{tls.version()} {tls.getpeercert()['subject'][0][0][1]}"
default = ssl.create_default_context()
assert default.cert_store_stats()["x509_ca"] > 100, default.cert_store_stats()
try:
    connect(default)
    raise SystemExit("untrusted: connected")
except ssl.SSLCertVerificationError as exc:
    print("untrusted:", exc.reason)
trusted = ssl.create_default_context()
trusted.load_verify_locations(files["TLS_CA"])
print("trusted:", connect(trusted))
`;

describe('worker image: builder → optimizer → minimal runtime FROM scratch', () => {
  let engine: Engine;
  let result: WorkerBuildResult;
  const events: WorkerEvent[] = [];
  let before: Awaited<ReturnType<typeof leftovers>>;

  beforeAll(async () => {
    engine = await getEngine();
    before = await leftovers(engine);
    result = await buildWorkerImage({
      engine,
      contextDir: join(root, 'examples'),
      dockerfile,
      tags: [tag],
      labels: testLabel,
      profile: await workerProfile(),
      sourceDir: join(root, 'examples/worker'),
      // A file of this run beside the optimizer in `.4pass/`: the optimizer and closure steps (which mount it) run
      // again and print their reports, however warm the engine's cache; the builder stage stays cached.
      extraEntries: [{ path: '.4pass/test-run', content: runId }],
      onEvent: (e) => events.push(e),
    });
  });

  afterAll(async () => {
    await engine?.removeImage(tag, { force: true });
  });

  it('runs the client stages as progress groups, every Dockerfile stage in one build, smoke program included', () => {
    expect(result.workerStages.map((s) => s.stage)).toEqual(['scan', 'build', 'smoke']);
    for (const s of result.workerStages) expect(s.durationMs).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'stage-done')).toHaveLength(3);
    expect(result.smoke).toMatchObject({ passed: true, reused: false });
    const stages = new Map(result.stages.map((s) => [s.stage, s]));
    for (const stage of ['builder', 'optimizer', 'rootfs', 'closure', 'compile-minimal', 'minimal']) {
      expect(stages.has(stage), stage).toBe(true);
    }
    expect(stages.get('optimizer')?.cached).toBe(false); // it mounts `.4pass/`, which holds this run's file
    expect(stages.get('closure')?.cached).toBe(false);
  });

  it('reports what the optimizer removed, as its Dockerfile step printed it', () => {
    expect(result.optimizer).toBeDefined();
    if (!result.optimizer) return;
    expect(result.optimizer.before.bytes - result.optimizer.after.bytes).toBeGreaterThan(10_000_000);
    expect(result.optimizer.services.kept).toEqual(
      expect.arrayContaining(['ecs', 'secretsmanager', 'sts', 'logs', 'sqs']),
    );
  });

  it('reports what the closure kept and why each shared library is there', () => {
    const closure = result.closure;
    expect(closure?.user).toEqual({ name: 'worker', uid: 10001, gid: 10001 });
    expect(closure?.libraries[0]?.via).toBe('program-interpreter');
    const ssl = closure?.libraries.find((l) => l.soname === 'libssl.so.3');
    expect(ssl?.neededBy).toEqual([expect.stringMatching(/lib-dynload\/_ssl\./)]);
    expect(closure?.ldSoCache.kept).toBe(false);
    expect(closure?.caBundle).toBe('/etc/ssl/certs/ca-certificates.crt');
    expect(closure?.after.bytes).toBeLessThan(closure?.before.bytes ?? 0);
    // The Debian packages behind the kept files, recorded for scanners (status.d).
    expect(closure?.packages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['libc6', 'libssl3', 'libffi8', 'zlib1g', 'ca-certificates', 'python3.11-minimal']),
    );
  });

  it('passes the in-image checks as its user with a read-only root filesystem, writing nothing', async () => {
    const facts = await engine.inspectImage(result.imageId);
    expect(facts?.Config.User).toBe('10001:10001');
    const program = await readFile(join(root, 'examples/worker/tests/in_image_check.py'), 'utf8');
    const env = ['CHECK_REGIONS=us-east-1,eu-west-1,ap-northeast-1'];
    const run = await runInImage(engine, result.imageId, program, facts?.Config.User, env);
    expect(run.output).not.toMatch(/Traceback/);
    expect(run.exitCode, run.output).toBe(0);
    for (const check of ['clients', 'paginators', 'unknown', 'resource', 'tls', 'removed', 'bytecode', 'no-writes']) {
      expect(run.output).toMatch(new RegExp(`^ok +${check}:`, 'm'));
    }
    expect(run.output).toMatch(/15 clients .* in us-east-1, eu-west-1, ap-northeast-1/);
  });

  it('has no shell, no package manager and no pip: /bin/sh cannot even start', async () => {
    const id = await engine.createContainer({
      image: result.imageId,
      entrypoint: ['/bin/sh', '-c', 'true'],
      cmd: [],
      networkMode: 'none',
      labels: testLabel,
    });
    try {
      await expect(engine.startContainer(id)).rejects.toThrow(/\/bin\/sh.*no such file or directory/);
    } finally {
      await engine.removeContainer(id);
    }
    const facts = await inspectImage(engine, result.imageId);
    for (const p of ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/apt-get', '/usr/bin/dpkg', '/usr/bin/pip']) {
      expect(resolveTreePath(facts.tree, p), p).toBeUndefined();
    }
    expect(resolveTreePath(facts.tree, '/opt/venv/bin/python')?.path).toMatch(/^\/usr(\/local)?\/bin\/python3\.\d+$/);
    expect(facts.sizeBytes).toBeLessThan(60_000_000);
    // Of dpkg only what scanners read: one status.d record (and md5sums) per package, no database, no info/.
    const dpkg = [...facts.tree.keys()].filter(
      (p) => p.startsWith('/var/lib/dpkg/') && facts.tree.get(p)?.type === 'file',
    );
    expect(dpkg.length).toBeGreaterThan(10);
    expect(
      dpkg.every((p) => /^\/var\/lib\/dpkg\/status\.d\/[^/]+$/.test(p)),
      dpkg.join(', '),
    ).toBe(true);
    expect(dpkg).toEqual(
      expect.arrayContaining(['/var/lib/dpkg/status.d/libc6', '/var/lib/dpkg/status.d/libc6.md5sums']),
    );
    expect(facts.contents?.os).toMatchObject({ id: 'debian' });
    // Each record lists only files the image has (the standard library's dropped sources are gone from them too).
    const kept = new Map([...(facts.knownLayers?.values() ?? [])].flatMap((layer) => [...layer.files]));
    expect(kept.get('/var/lib/dpkg/status.d/libc6.md5sums')?.toString()).toMatch(/libc\.so\.6\n/);
    for (const sums of dpkg.filter((p) => p.endsWith('.md5sums'))) {
      for (const line of (kept.get(sums)?.toString() ?? '').split('\n').filter(Boolean)) {
        const listed = `/${line.slice(line.indexOf('  ') + 2)}`;
        expect(resolveTreePath(facts.tree, listed)?.type, `${sums}: ${listed}`).toBe('file');
      }
    }
    expect(facts.contents?.elf.unowned).toEqual([]);
  });

  it('verifies TLS with its CA bundle: an untrusted server fails, a trusted one passes (loopback, no network)', async () => {
    const dir = await mkdtemp(join(tmpdir(), '4pass-tls-'));
    try {
      const openssl = (...args: string[]) => execa('openssl', args, { cwd: dir });
      await openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=4pass test CA',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
      );
      await openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
      );
      await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
      const signed = await openssl(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        'ext.cnf',
        '-out',
        'server.pem',
      );
      expect(signed.exitCode, signed.stderr).toBe(0);
      const pem = async (f: string) => readFile(join(dir, f), 'utf8');
      const env = [
        `TLS_CA=${await pem('ca.pem')}`,
        `TLS_CERT=${await pem('server.pem')}`,
        `TLS_KEY=${await pem('server.key')}`,
      ];
      const run = await runInImage(engine, result.imageId, TLS_PROGRAM, undefined, env);
      expect(run.output).toContain('untrusted: CERTIFICATE_VERIFY_FAILED');
      expect(run.output).toContain('trusted: TLSv1.3 localhost');
      expect(run.exitCode, run.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows its treemap in the HTML report, botocore and pydantic among its largest distributions', async () => {
    const facts = await inspectImage(engine, result.imageId);
    const largest = facts.contents?.python.slice(0, 3).map((d) => d.name);
    expect(largest).toEqual(expect.arrayContaining(['botocore', 'pydantic']));
    const config = parseConfig({ images: [{ name: 'worker', dockerfile: 'D', context: '.' }] }, '/virtual/i.json');
    const report = buildGateReport([evaluateImage(facts, config.images[0]!)]);
    const opened = await openHtml(renderHtmlReport(report));
    try {
      expect(opened.requests).toHaveLength(1); // the page itself, nothing else: it works offline
      const drawn = await opened.page.$$eval('svg.treemap g.kind-distribution', (gs) =>
        gs.map((g) => {
          const r = g.querySelector('rect');
          const area = Number(r?.getAttribute('width')) * Number(r?.getAttribute('height'));
          return { name: g.getAttribute('data-distribution') ?? '', area };
        }),
      );
      const byArea = drawn.sort((x, y) => y.area - x.area).map((d) => d.name);
      expect(byArea.slice(0, 3)).toEqual(expect.arrayContaining(['botocore', 'pydantic']));
      await screenshot(opened.page, 'html-report-worker-engine.png');
    } finally {
      await opened.close();
    }
  });

  it('leaves no containers and no intermediate images behind', async () => {
    const after = await leftovers(engine);
    // Containers of other runs (a killed benchmark, say) may be there; this run's must all be gone.
    expect(after.containers).toEqual(before.containers);
    expect(after.dangling).toEqual(before.dangling);
  });

  it('keeps the builder stage and the environment layer cached when only the worker code changes', async () => {
    const context = await mkdtemp(join(tmpdir(), '4pass-worker-ctx-'));
    try {
      await cp(join(root, 'examples'), context, {
        recursive: true,
        filter: (src) => !src.includes('node_modules') && !src.includes('/web/dist'),
      });
      const main = join(context, 'worker/worker/__main__.py');
      await writeFile(main, `${await readFile(main, 'utf8')}\n# changed ${runId}\n`);
      const again = await buildWorkerImage({
        engine,
        contextDir: context,
        dockerfile,
        labels: testLabel,
        profile: await workerProfile(),
        sourceDir: join(context, 'worker'),
        extraEntries: [{ path: '.4pass/test-run', content: runId }], // `.4pass/` as the first build had it
        smoke: false,
      });
      try {
        const stages = new Map(again.stages.map((s) => [s.stage, s.cached]));
        // The builder, the optimizer, the venv's bytecode and the closure's tree (the same bytes for the same base:
        // directories get one mtime, so compile-minimal is taken from the cache) are not rebuilt.
        for (const stage of ['builder', 'optimizer', 'compile-venv', 'compile-minimal']) {
          expect(stages.get(stage), stage).toBe(true);
        }
        expect(stages.get('compile-app')).toBe(false);
        expect(again.steps.some((s) => !s.cached && /COPY .*worker/.test(s.name))).toBe(true);
      } finally {
        await engine.removeImage(again.imageId, { force: true });
      }
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  it('fails before building, naming file and line, when the worker calls a service the profile trims', async () => {
    const context = await mkdtemp(join(tmpdir(), '4pass-worker-s3-'));
    try {
      await cp(join(root, 'examples/worker'), join(context, 'worker'), { recursive: true });
      await writeFile(
        join(context, 'worker/worker/archive.py'),
        'import boto3\n\n\ndef upload():\n    return boto3.client("s3")\n',
      );
      const error = await buildWorkerImage({
        engine,
        contextDir: context,
        dockerfile,
        sourceDir: join(context, 'worker'),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUsageError);
      expect((error as ServiceUsageError).violations).toEqual([expect.objectContaining({ service: 's3', line: 5 })]);
      expect((error as Error).message).toMatch(/archive\.py:5: boto3 client "s3"/);
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  it('leaves nothing behind when interrupted', async () => {
    const earlier = await leftovers(engine);
    const controller = new AbortController();
    const pending = buildWorkerImage({
      engine,
      contextDir: join(root, 'examples'),
      dockerfile,
      noCache: true,
      labels: testLabel,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'build' && e.event.type === 'step-started' && /RUN/.test(e.event.name)) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(BuildCanceledError);
    const after = await leftovers(engine);
    expect(after.containers).toEqual(earlier.containers);
  });
});

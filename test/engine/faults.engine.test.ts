import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateReportSchema, type GateReport } from '@4pass/builder';
import { STARTUP_LABEL, STARTUP_OWNER_LABEL } from '../../packages/builder/src/startup/stale-containers.js';
import { engine, localPythonBase, runId } from './helpers.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

/**
 * The fault suite of issue 10, end to end: the real CLI (`scripts/build-images.mjs` over the built library) against
 * the real engine and a real registry behind the fault proxy. Each scenario asserts the exit code, the message, what
 * the registry holds and what is left on the engine. One small image (the local Python base, a RUN that sleeps so a
 * signal can land in the build, a start-up that is ready after 2 s) is shared by the scenarios: the first two build
 * it for real, the later ones find it cached (the same commit and SOURCE_DATE_EPOCH give the same image id).
 */

const root = resolve(import.meta.dirname, '../..');
const zx = join(root, 'node_modules/.bin/zx');
const script = join(root, 'scripts/build-images.mjs');
const repository = `4pass-test/faults-${runId}`;
const sha = randomBytes(20).toString('hex');
const shaTag = `sha-${sha.slice(0, 7)}`;
const SOURCE_DATE_EPOCH = '1700000000';
const RUN_SLEEP_S = 4;
const password = `pw-${randomBytes(12).toString('hex')}`;
/**
 * Short bounds for the hung-registry scenario (seconds in the config; ms here), on every run. `requestTimeout` also
 * bounds each engine request (an image export 5× that: the engine sends its first byte only once it has written the
 * whole image), so it is short but not 2 s, which a loaded shared engine can take to create a container; the hung
 * push is bounded by `idleTimeout` (the engine's push stream) and `retries`.
 */
const NETWORK = { requestTimeoutMs: 5000, idleTimeoutMs: 2000, retries: 1 };

/** What one scenario measured, printed as the closing note's table at the end. */
const table: { scenario: string; exit: number | string; timeToFailMs: number; leftovers: string }[] = [];

let dir: string;
let registry: TestRegistry;
let proxy: FaultProxy;
/** Pids of every CLI process started: start-up containers they own are removed at the end, whatever happened. */
const pids: number[] = [];

interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** `performance.now()` at spawn. */
  startedAt: number;
  /** ms from spawn to exit. */
  elapsedMs: number;
  /** ms from spawn to the moment the trigger fired (the signal was sent). */
  triggeredAtMs?: number;
  /** ms from spawn to the stderr chunk that completed the first match of `pattern` (undefined: never printed). */
  timeOf(pattern: RegExp): number | undefined;
}

interface Trigger {
  /** Sent once stderr matches `when`, after `delayMs`. */
  signal: NodeJS.Signals;
  when: RegExp;
  delayMs?: number;
}

/** Runs the CLI in the temp dir; with a trigger, sends a signal once stderr shows the stage marker. */
function cli(args: string[], options: { env?: Record<string, string>; trigger?: Trigger } = {}): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(zx, [script, ...args], {
    cwd: dir,
    env: { ...process.env, SOURCE_DATE_EPOCH, REGISTRY_USERNAME: 'AWS', REGISTRY_PASSWORD: password, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) pids.push(child.pid);
  const chunks: { atMs: number; end: number }[] = [];
  const run: Omit<CliRun, 'exitCode' | 'signal' | 'elapsedMs'> = {
    stdout: '',
    stderr: '',
    pid: child.pid ?? -1,
    startedAt: started,
    timeOf(pattern) {
      const match = pattern.exec(run.stderr);
      if (!match) return undefined;
      return chunks.find((c) => c.end >= match.index + match[0].length)?.atMs;
    },
  };
  let fired = false;
  child.stdout.on('data', (c: Buffer) => (run.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    run.stderr += c.toString();
    chunks.push({ atMs: performance.now() - started, end: run.stderr.length });
    const trigger = options.trigger;
    if (!trigger || fired || !trigger.when.test(run.stderr)) return;
    fired = true;
    setTimeout(() => {
      run.triggeredAtMs = performance.now() - started;
      child.kill(trigger.signal);
    }, trigger.delayMs ?? 0);
  });
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) =>
      resolvePromise({ ...run, exitCode, signal, elapsedMs: performance.now() - started }),
    );
  });
}

const pushArgs = (extra: string[] = []) => [
  '--push',
  '--registry',
  proxy.host,
  '--sha',
  sha,
  '--allow-dirty',
  '--progress',
  'plain',
  ...extra,
];

/** Start-up containers (label org.4pass.startup) owned by the CLI process `pid`. */
async function startupContainersOf(pid: number) {
  const containers = await (await engine()).listContainers({ label: [STARTUP_LABEL] });
  return containers.filter((c) => c.labels[STARTUP_OWNER_LABEL]?.split('/')[1] === String(pid));
}

/** Images this test built that lost their tags (an unchanged rebuild must not leave one behind). */
async function danglingImages() {
  return (await engine()).listImages({ dangling: ['true'], label: [`org.4pass.test=${runId}`] });
}

async function registryTags(): Promise<string[]> {
  return ((await registry.listTags(repository)) ?? []).sort();
}

async function readReport(file: string): Promise<GateReport> {
  return gateReportSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** An interrupted run stops at the next step: it exits within `ms` of the signal (its cleanup included). */
const QUICK_EXIT_MS = 4000;
function expectQuickExit(run: CliRun): void {
  expect(run.triggeredAtMs).toBeDefined();
  expect(run.elapsedMs - (run.triggeredAtMs ?? 0)).toBeLessThan(QUICK_EXIT_MS);
}

function record(scenario: string, run: CliRun, leftovers: string, fromMs = run.triggeredAtMs ?? 0): void {
  const exit = run.exitCode ?? run.signal ?? '?';
  table.push({ scenario, exit, timeToFailMs: Math.round(run.elapsedMs - fromMs), leftovers });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), '4pass-faults-'));
  registry = await startRegistry({ password });
  proxy = await startFaultProxy(registry.host);
  await writeFile(
    join(dir, 'Dockerfile'),
    [
      `FROM ${await localPythonBase()}`,
      `LABEL org.4pass.test=${runId}`,
      `RUN echo ${runId} > /run-id && sleep ${RUN_SLEEP_S}`,
      'CMD ["sh", "-c", "sleep 2; echo ready; exec sleep 300"]',
      '',
    ].join('\n'),
  );
  await writeConfig('images.config.json', {});
});

afterAll(async () => {
  const e = await engine();
  for (const pid of pids) for (const c of await startupContainersOf(pid)) await e.removeContainer(c.id);
  for (const image of await e.listImages({ label: [`org.4pass.test=${runId}`] }))
    await e.removeImage(image.id, { force: true });
  await proxy?.close();
  await registry?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (table.length) {
    const rows = table.map(
      (r) => `| ${r.scenario} | ${r.exit} | ${(r.timeToFailMs / 1000).toFixed(1)} s | ${r.leftovers} |`,
    );
    console.log(['| scenario | exit | time to fail | leftovers |', '|---|---|---|---|', ...rows].join('\n'));
  }
});

/** The config of the small image; `image` adds to (or overrides) its settings, `top` to the file's. */
async function writeConfig(
  file: string,
  image: Record<string, unknown>,
  top: Record<string, unknown> = {},
): Promise<string> {
  const config = {
    network: {
      requestTimeout: `${NETWORK.requestTimeoutMs / 1000}s`,
      idleTimeout: `${NETWORK.idleTimeoutMs / 1000}s`,
      retries: NETWORK.retries,
    },
    ...top,
    images: [
      {
        name: 'tiny',
        repository,
        dockerfile: 'Dockerfile',
        context: '.',
        startup: { ready: { logPattern: '^ready' }, runs: 2, timeout: '30s' },
        budgets: { size: '1GB' },
        ...image,
      },
    ],
  };
  const path = join(dir, file);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

describe('the fault suite: signals, a failing registry and secret build args, through the CLI', () => {
  it('1. SIGINT during the build: exit 130, "interrupted during build: nothing was pushed", nothing left', async () => {
    const run = await cli(pushArgs(), {
      trigger: { signal: 'SIGINT', when: /RUN echo \S+ > \/run-id/, delayMs: 1000 },
    });
    expect(run.triggeredAtMs, run.stderr).toBeDefined();
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(130);
    expect(run.stderr).toContain('interrupted during build: nothing was pushed');
    // Stopped at the next step: long before the RUN's sleep would have ended and the gate run.
    expect(run.stderr).not.toContain('--> tiny: build done');
    expect(await registryTags()).toEqual([]);
    expect(await startupContainersOf(run.pid)).toEqual([]);
    expect(await danglingImages()).toEqual([]);
    expectQuickExit(run);
    record('SIGINT during build', run, 'none');
  });

  it('2. SIGINT right after the build (inspect): exit 130, nothing pushed, nothing left', async () => {
    const run = await cli(pushArgs(), { trigger: { signal: 'SIGINT', when: /--> tiny: inspect\n/ } });
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(130);
    expect(run.stderr).toMatch(/interrupted during (inspect|startup): nothing was pushed/);
    expect(run.stderr).not.toMatch(/pushed (sha-|latest)/);
    expect(await registryTags()).toEqual([]);
    expect(await startupContainersOf(run.pid)).toEqual([]);
    expect(await danglingImages()).toEqual([]);
    expectQuickExit(run); // the inspect's export is stopped while the engine still prepares it
    const stage = /interrupted during (\w+)/.exec(run.stderr)?.[1] ?? '?';
    record(`SIGINT after build (landed in ${stage})`, run, 'none');
  });

  it('3. SIGTERM during the start-up runs: exit 143, not a budget failure, no start-up container left', async () => {
    const json = join(dir, 'sigterm.json');
    const run = await cli(pushArgs(['--json', json]), {
      trigger: { signal: 'SIGTERM', when: /--> tiny: startup\n/, delayMs: 1000 },
    });
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(143);
    expect(run.stderr).toContain('interrupted during startup: nothing was pushed');
    expect(run.stdout).toContain('Result: INTERRUPTED during startup — 1 of 1 image not finished');
    expect(run.stdout).not.toContain('Result: FAIL');
    const report = await readReport(json);
    expect(report.images).toEqual([]); // no budget was judged
    expect(report.errors).toEqual([
      { name: 'tiny', stage: 'startup', message: 'interrupted during startup', interrupted: true },
    ]);
    expect(await registryTags()).toEqual([]);
    expect(await startupContainersOf(run.pid)).toEqual([]);
    expect(await danglingImages()).toEqual([]);
    expectQuickExit(run);
    record('SIGTERM during startup', run, 'none');
  });

  it('5. a registry that never answers the manifest PUT: exit 3 within the bound, naming the wait; report kept', async () => {
    proxy.setRules([{ method: 'PUT', path: /\/manifests\//, mode: 'hang' }]);
    const json = join(dir, 'hang.json');
    try {
      const run = await cli(pushArgs(['--no-budget', '--json', json]));
      const pushStartMs = run.timeOf(/--> tiny: push\n/);
      expect(pushStartMs, run.stderr.slice(-3000)).toBeDefined();
      expect(run.exitCode, run.stderr.slice(-3000)).toBe(3);
      // What it waited for (the engine's push of the sha tag, and its last progress), once, with the silence and tries.
      expect(run.stderr).toMatch(
        /failed: timed out waiting for the engine's push of \S+:sha-[0-9a-f]{7} \(last: [^)]+\) \(2 attempts\): no progress for 2 s\n/,
      );
      const report = await readReport(json);
      expect(report.images[0]?.push).toMatchObject({ status: 'failed', tags: [] });
      expect(report.images[0]?.push?.message).toMatch(/timed out waiting for/);
      expect(await registryTags()).not.toContain('latest');
      expect(await registryTags()).toEqual([]);
      const firstHang = proxy.requests.find((r) => r.mode === 'hang');
      expect(firstHang).toBeDefined();
      // The documented bound (DEFAULT_PUSH_TIMEOUTS), from the first request the registry never answered: (retries + 1)
      // attempts, each silent for at most idleTimeout, plus the backoff (1 s), plus 10 s for what answers normally
      // around them (the second attempt's layer checks) and for the process to write its reports and exit.
      const { idleTimeoutMs, retries } = NETWORK;
      const bound = (retries + 1) * idleTimeoutMs + 1000 + 10_000;
      const hangAtMs = (firstHang?.at ?? 0) - run.startedAt;
      expect(run.elapsedMs - hangAtMs).toBeLessThan(bound);
      expect(run.elapsedMs - hangAtMs).toBeGreaterThanOrEqual((retries + 1) * idleTimeoutMs);
      record('registry hangs (manifest PUT), from the first unanswered request', run, 'none', hangAtMs);
    } finally {
      proxy.setRules([]);
    }
  });

  it('6. a registry answering 500 to the push: exit 3, "server error (HTTP 500)", report with the push section', async () => {
    proxy.setRules([{ method: 'PUT', path: /\/manifests\//, mode: '500' }]);
    const json = join(dir, '500.json');
    const markdown = join(dir, '500.md');
    const junit = join(dir, '500.xml');
    try {
      const run = await cli(pushArgs(['--no-budget', '--json', json, '--markdown', markdown, '--junit', junit]));
      expect(run.exitCode, run.stderr.slice(-3000)).toBe(3);
      expect(run.stderr).toMatch(/server error \(HTTP 500\)/);
      expect(run.stderr).not.toMatch(/unavailable/);
      expect(run.stdout).toMatch(/Result: PUSH FAILED — 1 image within budget; .*HTTP 500/);
      const report = await readReport(json);
      expect(report.images[0]?.push).toMatchObject({ status: 'failed', tags: [] });
      expect(report.images[0]?.push?.message).toMatch(/HTTP 500/);
      expect(await readFile(markdown, 'utf8')).toMatch(/\*\*Push\*\* failed: .*HTTP 500/);
      expect(await readFile(junit, 'utf8')).toMatch(/<failure[^>]*HTTP 500/);
      expect(await registryTags()).toEqual([]);
      record('registry 500 (manifest PUT), from the push start', run, 'none', run.timeOf(/--> tiny: push\n/));
    } finally {
      proxy.setRules([]);
    }
  });

  it('4. kill -9 during the start-up runs leaves its container; the next run removes it and passes', async () => {
    const killed = await cli(pushArgs(), {
      trigger: { signal: 'SIGKILL', when: /--> tiny: startup\n/, delayMs: 1000 },
    });
    expect(killed.signal).toBe('SIGKILL');
    const left = await startupContainersOf(killed.pid);
    expect(left.length).toBe(1);
    expect(await registryTags()).toEqual([]);

    const json = join(dir, 'first-push.json');
    const next = await cli(pushArgs(['--json', json]));
    expect(next.exitCode, next.stderr.slice(-3000)).toBe(0);
    expect(next.stderr).toMatch(/removed [1-9]\d* start-up container\(s\) left by an earlier run that was killed/);
    const ids = (await (await engine()).listContainers({ label: [STARTUP_LABEL] })).map((c) => c.id);
    expect(ids).not.toContain(left[0]?.id);
    expect(await startupContainersOf(next.pid)).toEqual([]);
    expect(await registryTags()).toContain(shaTag);
    expect(await registryTags()).not.toContain('latest'); // a push never moves latest: a release does
    expect(await danglingImages()).toEqual([]);
    record('kill -9 during startup', killed, '1 start-up container (until the next run)');
    record('… the next run (passes)', next, 'none (removed the one left)', 0);
  });

  it('8. a second --push of the same commit, fully cached: exit 0, same image id, nothing moved, push "unchanged"', async () => {
    const first = await readReport(join(dir, 'first-push.json'));
    const before = { sha: await registry.manifestDigest(repository, shaTag) };
    expect(before.sha).toMatch(/^sha256:/);
    const json = join(dir, 'second-push.json');
    const run = await cli(pushArgs(['--no-budget', '--json', json]));
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    const second = await readReport(json);
    expect(second.images[0]?.imageId).toBe(first.images[0]?.imageId);
    expect(await registry.manifestDigest(repository, shaTag)).toBe(before.sha);
    expect(await registry.manifestDigest(repository, 'latest')).toBeUndefined();
    expect(second.images[0]?.push?.status).toBe('pushed');
    expect(second.images[0]?.push?.tags.map((t) => [t.tag, t.via])).toEqual([[shaTag, 'unchanged']]);
    expect(run.stderr).toMatch(/#\d+ CACHED/);
    expect(await danglingImages()).toEqual([]);
    record('second --push, same commit (passes)', run, 'none', 0);
  });

  it('7. an allowed secret build arg in a failing RUN: exit 3, the value in no output, report or summary', async () => {
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    await writeFile(
      join(dir, 'leaky.Dockerfile'),
      `FROM ${await localPythonBase()}\nLABEL org.4pass.test=${runId}\nARG GITHUB_TOKEN\nRUN echo "token=$GITHUB_TOKEN" && exit 7\n`,
    );
    const config = await writeConfig('leaky.config.json', {
      name: 'leaky',
      dockerfile: 'leaky.Dockerfile',
      buildArgs: { GITHUB_TOKEN: token },
      allowSecretBuildArgs: ['GITHUB_TOKEN'],
    });
    const files = { json: 'leaky.json', markdown: 'leaky.md', junit: 'leaky.xml', summary: 'summary.md' };
    const path = (f: string) => join(dir, f);
    await writeFile(path(files.summary), '');
    const run = await cli(
      [
        '--config',
        config,
        '--progress',
        'plain',
        '--json',
        path(files.json),
        '--markdown',
        path(files.markdown),
        '--junit',
        path(files.junit),
      ],
      { env: { GITHUB_STEP_SUMMARY: path(files.summary) } },
    );
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(3);
    // The failure is reported (step and exit code), with the value replaced.
    expect(run.stderr).toMatch(/exit code: 7/);
    expect(run.stderr).toContain('***');
    const outputs: Record<string, string> = { stdout: run.stdout, stderr: run.stderr };
    for (const [k, f] of Object.entries(files)) outputs[k] = await readFile(path(f), 'utf8');
    expect(outputs.summary).toContain('leaky');
    expect((await readReport(path(files.json))).errors[0]).toMatchObject({ name: 'leaky', stage: 'build' });
    const base64 = Buffer.from(token).toString('base64');
    for (const [where, text] of Object.entries(outputs)) {
      expect(text.includes(token), `${where} shows the token`).toBe(false);
      expect(text.includes(base64), `${where} shows the token in base64`).toBe(false);
      expect(text.includes(token.slice(4)), `${where} shows the token without its prefix`).toBe(false);
    }
    record('secret build arg, failing RUN', run, 'none', 0);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupSetupError, buildImage, measureStartup, type StartupEvent } from '@4pass/builder/internal';
import { FROM_PYTHON, engine, removeTestContainers, runId, testLabel } from './helpers.js';

/** The app becomes ready 300 ms after start: it writes /tmp/ready (tmpfs) and prints a ready line with its own time. */
const DOCKERFILE = `${FROM_PYTHON}
RUN useradd --uid 10001 --no-create-home app
USER 10001
HEALTHCHECK --interval=30s --timeout=5s CMD ["python3", "-c", "import os, sys; sys.exit(0 if os.path.exists('/tmp/ready') else 1)"]
CMD ["python3", "-c", "import time; t = time.perf_counter(); time.sleep(0.3); open('/tmp/ready', 'w').write('1'); print('ready in %d ms' % ((time.perf_counter() - t) * 1000), flush=True); time.sleep(600)"]
`;

const tag = `4pass-test/startup:${runId}`;
const noHealthTag = `4pass-test/startup-nohc:${runId}`;
let dir: string;

async function ourContainers(): Promise<number> {
  const e = await engine();
  return (await e.listContainers({ label: [`org.4pass.test=${runId}`] })).length;
}

beforeAll(async () => {
  const e = await engine();
  dir = await mkdtemp(join(tmpdir(), 'startup-'));
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, 'nohc.Dockerfile'), `${FROM_PYTHON}\nCMD ["sleep", "600"]\n`);
  await buildImage({ engine: e, contextDir: dir, tags: [tag], labels: testLabel });
  await buildImage({
    engine: e,
    contextDir: dir,
    dockerfile: join(dir, 'nohc.Dockerfile'),
    tags: [noHealthTag],
    labels: testLabel,
  });
});

afterAll(async () => {
  const e = await engine();
  await removeTestContainers(e);
  await e.removeImage(tag, { force: true });
  await e.removeImage(noHealthTag, { force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('measureStartup', () => {
  it('ready by healthcheck: measured at ~interval granularity, not the image’s 30 s interval; PID 1 uid read', async () => {
    const events: StartupEvent[] = [];
    const r = await measureStartup(await engine(), tag, {
      ready: { kind: 'healthcheck' },
      runs: 3,
      timeoutMs: 20_000,
      labels: testLabel,
      processTimePattern: 'ready in (?<ms>\\d+) ms',
      onEvent: (e) => events.push(e),
    });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.runs).toHaveLength(3);
    // 300 ms of app time plus interpreter start; far below the image's own 30 s interval
    expect(r.medianMs).toBeGreaterThanOrEqual(300);
    expect(r.medianMs).toBeLessThan(5_000);
    expect(r.p95Ms).toBeGreaterThanOrEqual(r.medianMs ?? 0);
    expect(r.processMedianMs).toBeGreaterThanOrEqual(300);
    expect(r.processMedianMs).toBeLessThan(1_000);
    expect(r.runtimeUid).toBe(10001);
    expect(r.settings).toMatchObject({ network: false, readOnly: true, healthcheckIntervalMs: 100 });
    expect(events.filter((e) => e.type === 'startup-run-end').map((e) => e.type === 'startup-run-end' && e.ok)).toEqual(
      [true, true, true],
    );
    expect(await ourContainers()).toBe(0);
  });

  it('ready by log line', async () => {
    const r = await measureStartup(await engine(), tag, {
      ready: { kind: 'logPattern', pattern: '^ready in \\d+ ms' },
      runs: 3,
      timeoutMs: 20_000,
      labels: testLabel,
      processTimePattern: 'ready in (?<ms>\\d+) ms',
    });
    expect(r.ok).toBe(true);
    expect(r.runs.every((run) => (run.readyMs ?? 0) >= 300 && (run.processMs ?? 0) >= 300)).toBe(true);
    expect(r.runtimeUid).toBe(10001);
    expect(await ourContainers()).toBe(0);
  });

  it('ready by a command exiting 0', async () => {
    const r = await measureStartup(await engine(), tag, {
      ready: { kind: 'command', command: ['test', '-f', '/tmp/ready'] },
      runs: 2,
      timeoutMs: 20_000,
      labels: testLabel,
    });
    expect(r.ok).toBe(true);
    expect(r.medianMs).toBeGreaterThanOrEqual(300);
    expect(await ourContainers()).toBe(0);
  });

  it('timeout: fails with the last log lines, stops after the first failed run, removes the container', async () => {
    const started = Date.now();
    const r = await measureStartup(await engine(), tag, {
      ready: { kind: 'logPattern', pattern: 'this line never comes' },
      runs: 3,
      // Long enough for the container to print its line on a busy machine; the point is what the failure carries.
      timeoutMs: 5_000,
      labels: testLabel,
    });
    expect(r.ok).toBe(false);
    expect(r.runs).toEqual([{ run: 1, ok: false, error: 'not ready within 5 s' }]);
    expect(r.failures[0]?.reason).toBe('not ready within 5 s');
    expect(r.failures[0]?.logTail.some((l) => /^ready in \d+ ms$/.test(l))).toBe(true);
    expect(r.medianMs).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await ourContainers()).toBe(0);
  });

  it('a container that exits before ready fails at once, with its output (secret values redacted)', async () => {
    const r = await measureStartup(await engine(), tag, {
      ready: { kind: 'healthcheck' },
      cmd: ['sh', '-c', 'echo "boom: token $API_TOKEN"; exit 3'],
      env: { API_TOKEN: 'tok-very-secret-value' },
      runs: 2,
      timeoutMs: 20_000,
      labels: testLabel,
    });
    expect(r.ok).toBe(false);
    expect(r.failures[0]?.reason).toBe('exited with code 3 before ready');
    expect(r.failures[0]?.logTail).toEqual(['boom: token ***']);
    expect(JSON.stringify(r)).not.toContain('tok-very-secret-value');
    expect(await ourContainers()).toBe(0);
  });

  it('ready by healthcheck on an image without HEALTHCHECK is a setup error', async () => {
    await expect(
      measureStartup(await engine(), noHealthTag, { ready: { kind: 'healthcheck' }, labels: testLabel }),
    ).rejects.toThrow(StartupSetupError);
    expect(await ourContainers()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import {
  measureStartup,
  StartupSetupError,
  type ContainerInspect,
  type ContainerSpec,
  type ImageInspect,
} from '@4pass/builder/internal';
import { fakeContainers, fakeImages } from '../fakes/engine-fakes.js';
import { median, percentile } from '../../../packages/builder/src/startup/measure-startup.js';

/** A fake engine whose containers become healthy / print after `readyAfterMs`, or exit, or fail to start. */
function startupEngine(opts: {
  readyAfterMs?: number;
  exitCode?: number;
  failStart?: boolean;
  output?: string;
  healthcheck?: boolean;
  env?: string[];
  stderr?: string;
  /** The container is gone by the time its processes are listed (`Processes: null`). */
  noProcesses?: boolean;
}) {
  const created: ContainerSpec[] = [];
  const removed: string[] = [];
  const startedAt = new Map<string, number>();
  const image: ImageInspect = {
    Id: 'sha256:img',
    RepoTags: ['x:1'],
    RepoDigests: [],
    Created: '',
    Size: 1,
    RootFS: { Type: 'layers' },
    Config: {
      Env: opts.env ?? [],
      ...(opts.healthcheck !== false && { Healthcheck: { Test: ['CMD', 'true'], Timeout: 5e9, Retries: 3 } }),
    },
  };
  const elapsed = (id: string) => performance.now() - (startedAt.get(id) ?? Infinity);
  const ready = (id: string) => opts.readyAfterMs !== undefined && elapsed(id) >= opts.readyAfterMs;
  const containers = fakeContainers({
    createContainer: async (spec: ContainerSpec) => {
      created.push(spec);
      return `c${created.length}`;
    },
    startContainer: async (id: string) => {
      if (opts.failStart) throw new Error('cannot start: secret sk_live_123456 leaked in error');
      startedAt.set(id, performance.now());
    },
    inspectContainer: async (id: string): Promise<ContainerInspect> => {
      const exited = opts.exitCode !== undefined && elapsed(id) > 30;
      return {
        Id: id,
        State: {
          Status: exited ? 'exited' : 'running',
          Running: !exited,
          Pid: exited ? 0 : 4242,
          ExitCode: opts.exitCode ?? 0,
          StartedAt: '',
          FinishedAt: '',
          Health: { Status: ready(id) ? 'healthy' : 'starting' },
        },
        NetworkSettings: {},
        Config: {},
      };
    },
    followLogs: async (id: string, onChunk: (s: 'stdout' | 'stderr', t: string) => void, signal?: AbortSignal) => {
      while (!signal?.aborted) {
        if (ready(id)) {
          onChunk('stdout', `ready in ${opts.readyAfterMs} ms\n`);
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    containerLogs: async () => ({ stdout: opts.output ?? '', stderr: opts.stderr ?? '' }),
    // Only the `command` probe runs inside the container; PID 1's uid comes from the engine's process list.
    exec: async (id: string) => ({ exitCode: ready(id) ? 0 : 1, stdout: '', stderr: '' }),
    topContainer: async (_id: string, psArgs?: string) => {
      expect(psArgs).toBe('-o pid,ruid');
      if (opts.noProcesses) return { Titles: null, Processes: null };
      return {
        Titles: ['PID', 'RUID'],
        Processes: [
          ['4240', '0'],
          ['4242', '10001'],
        ],
      };
    },
    removeContainer: async (id: string) => {
      removed.push(id);
    },
  });
  const engine = { ...fakeImages({ inspectImage: async () => image as never }), ...containers };
  return { engine, created, removed };
}

describe('measureStartup (fake engine)', () => {
  it('a container that exits right after its ready line is still a ready run, without a runtime uid', async () => {
    const f = startupEngine({ readyAfterMs: 20, noProcesses: true });
    const r = await measureStartup(f.engine, 'x:1', {
      ready: { kind: 'logPattern', pattern: 'ready in' },
      runs: 1,
      timeoutMs: 5_000,
      pollIntervalMs: 5,
    });
    expect(r.ok).toBe(true);
    expect(r.runtimeUid).toBeUndefined();
  });

  it('runs N times with production settings and removes every container', async () => {
    const f = startupEngine({ readyAfterMs: 40 });
    const r = await measureStartup(f.engine, 'x:1', {
      ready: { kind: 'healthcheck' },
      runs: 4,
      timeoutMs: 5_000,
      pollIntervalMs: 5,
      env: { A: '1' },
      labels: { 'org.4pass.test': 'u' },
    });
    expect(r.ok).toBe(true);
    expect(r.runs).toHaveLength(4);
    expect(r.runs.every((x) => (x.readyMs ?? 0) >= 40 && (x.readyMs ?? 0) < 1_000)).toBe(true);
    expect(r.runtimeUid).toBe(10001);
    expect(f.created).toHaveLength(4);
    expect(f.removed).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(f.created[0]).toMatchObject({
      image: 'sha256:img',
      env: ['A=1'],
      readOnlyRootfs: true,
      networkMode: 'none',
      tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      healthcheck: { test: ['CMD', 'true'], intervalMs: 100, timeoutMs: 5000, startPeriodMs: 5000, retries: 3 },
    });
    expect(f.created[0]?.labels?.['org.4pass.test']).toBe('u');
    expect(f.created[0]?.labels?.['org.4pass.startup']).toMatch(/^[a-z0-9]+$/);
  });

  it('log line and command readiness; network and user when asked', async () => {
    const f = startupEngine({ readyAfterMs: 30 });
    const log = await measureStartup(f.engine, 'x:1', {
      ready: { kind: 'logPattern', pattern: '^ready' },
      runs: 2,
      pollIntervalMs: 5,
      processTimePattern: 'ready in (?<ms>\\d+) ms',
      network: true,
      user: '1000',
    });
    expect(log.ok).toBe(true);
    expect(log.processMedianMs).toBe(30);
    expect(f.created[0]).toMatchObject({ networkMode: 'bridge', user: '1000' });
    expect(f.created[0]?.healthcheck).toBeUndefined();
    const cmd = await measureStartup(f.engine, 'x:1', {
      ready: { kind: 'command', command: ['true'] },
      runs: 1,
      pollIntervalMs: 5,
    });
    expect(cmd.ok).toBe(true);
    expect(cmd.runs[0]?.readyMs).toBeGreaterThanOrEqual(30);
  });

  it('a failed start still removes the container and never echoes secret values', async () => {
    const f = startupEngine({ failStart: true, env: ['STRIPE_SECRET_KEY=sk_live_123456'] });
    const r = await measureStartup(f.engine, 'x:1', { ready: { kind: 'healthcheck' }, runs: 3, pollIntervalMs: 5 });
    expect(r.ok).toBe(false);
    expect(r.runs).toEqual([{ run: 1, ok: false, error: 'cannot start: secret *** leaked in error' }]);
    expect(f.removed).toEqual(['c1']);
  });

  it('exit before ready and timeout fail with the output tail', async () => {
    const exited = await measureStartup(
      startupEngine({ exitCode: 2, output: 'a\nb\nfatal: no config\n' }).engine,
      'x:1',
      {
        ready: { kind: 'logPattern', pattern: 'never' },
        pollIntervalMs: 5,
      },
    );
    expect(exited.failures).toEqual([
      { run: 1, reason: 'exited with code 2 before ready', logTail: ['a', 'b', 'fatal: no config'] },
    ]);
    const slow = await measureStartup(startupEngine({ readyAfterMs: 10_000 }).engine, 'x:1', {
      ready: { kind: 'healthcheck' },
      timeoutMs: 100,
      pollIntervalMs: 5,
      stopOnFailure: false,
      runs: 2,
    });
    expect(slow.runs.map((x) => x.error)).toEqual(['not ready within 100 ms', 'not ready within 100 ms']);
    expect(slow.medianMs).toBeUndefined();
  });

  it('profiles imports in one extra, untimed run with PYTHONPROFILEIMPORTTIME=1', async () => {
    const stderr = [
      'import time: self [us] | cumulative | imported package',
      'import time:       900 |        900 |   botocore.compat',
      'import time:       100 |       1000 | boto3',
      'Traceback (most recent call last):',
    ].join('\n');
    const f = startupEngine({ readyAfterMs: 20, stderr });
    const r = await measureStartup(f.engine, 'x:1', {
      ready: { kind: 'logPattern', pattern: '^ready' },
      runs: 2,
      pollIntervalMs: 5,
      env: { A: '1' },
      profileImports: true,
    });
    expect(r.runs).toHaveLength(2);
    expect(r.importTimes).toEqual([
      { module: 'botocore.compat', selfUs: 900, cumulativeUs: 900, depth: 1 },
      { module: 'boto3', selfUs: 100, cumulativeUs: 1000, depth: 0 },
    ]);
    expect(f.created.map((c) => c.env)).toEqual([['A=1'], ['A=1'], ['A=1', 'PYTHONPROFILEIMPORTTIME=1']]);
    expect(f.removed).toEqual(['c1', 'c2', 'c3']);
    const notPython = await measureStartup(startupEngine({ readyAfterMs: 20 }).engine, 'x:1', {
      ready: { kind: 'logPattern', pattern: '^ready' },
      runs: 1,
      pollIntervalMs: 5,
      profileImports: true,
    });
    expect(notPython.importTimes).toBeUndefined();
    expect('importTimes' in notPython).toBe(false);
  });

  it('healthcheck readiness needs a HEALTHCHECK', async () => {
    await expect(
      measureStartup(startupEngine({ healthcheck: false }).engine, 'x:1', { ready: { kind: 'healthcheck' } }),
    ).rejects.toThrow(StartupSetupError);
  });

  it('median and nearest-rank p95', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([100, 200, 300, 400, 500], 95)).toBe(500);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(19);
  });
});

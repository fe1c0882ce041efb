import { describe, expect, it } from 'vitest';
import { connectEngine, EngineUnavailableError } from '@4pass/builder';
import { TarScanner } from '../../packages/optimizer/src/archive/tar-scanner.js';
import { engine, localPythonBase, testLabel } from './helpers.js';

describe('engine connection', () => {
  it('pings the real engine and reads its API version without pinning one', async () => {
    const e = await engine();
    const version = await e.version();
    expect(version.apiVersion).toMatch(/^1\.\d+$/);
    expect(Number(version.apiVersion.split('.')[1])).toBeGreaterThanOrEqual(41);
  });

  it('gives the no-engine error naming the address when DOCKER_HOST points at a closed socket', async () => {
    const error = await connectEngine({
      env: { DOCKER_HOST: 'unix:///tmp/4pass-no-such.sock' },
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as EngineUnavailableError).address).toBe('unix:///tmp/4pass-no-such.sock');
    expect((error as Error).message).toMatch(
      /no Docker engine answers at unix:\/\/\/tmp\/4pass-no-such\.sock \(from DOCKER_HOST\)/,
    );
    expect((error as Error).message).toMatch(/bootstrap\.sh|dockerd/);
  });

  it('gives the no-engine error for a closed TCP port', async () => {
    const error = await connectEngine({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1' }, timeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toContain('tcp://127.0.0.1:1');
  });

  it('maps a missing image to undefined and a bad request to a typed error', async () => {
    const e = await engine();
    expect(await e.inspectImage('4pass-test/does-not-exist:nope')).toBeUndefined();
    await expect(e.tagImage('4pass-test/does-not-exist:nope', 'x/y', 'z')).rejects.toMatchObject({
      name: 'EngineRequestError',
      statusCode: 404,
    });
  });
});

describe('containers without running anything inside them', () => {
  it('exports the root filesystem of a created, never started container', async () => {
    const e = await engine();
    const id = await e.createContainer({
      image: await localPythonBase(),
      cmd: ['true'],
      networkMode: 'none',
      labels: testLabel,
    });
    try {
      const names: string[] = [];
      const scanner = new TarScanner((m) => names.push(m.header.name));
      for await (const chunk of await e.exportContainer(id)) scanner.push(chunk as Buffer);
      scanner.end();
      expect(names).toContain('etc/passwd');
      expect(names.some((n) => /^usr\/(local\/)?bin\/python3\.\d+$/.test(n))).toBe(true);
      expect((await e.inspectContainer(id))?.State.Running).toBe(false);
    } finally {
      await e.removeContainer(id);
    }
  });

  it("lists a running container's processes with their real uid (top), PID 1 found by inspect's State.Pid", async () => {
    const e = await engine();
    const id = await e.createContainer({
      image: await localPythonBase(),
      entrypoint: ['python3', '-c', 'import time; time.sleep(60)'],
      cmd: [],
      user: '12345:12345',
      networkMode: 'none',
      labels: testLabel,
    });
    try {
      await e.startContainer(id);
      const pid = (await e.inspectContainer(id))?.State.Pid;
      expect(pid).toBeGreaterThan(0);
      const top = await e.topContainer(id, '-o pid,ruid');
      expect(top.Titles).toEqual(['PID', 'RUID']);
      expect(top.Processes?.find((p) => Number(p[0]) === pid)?.[1]).toBe('12345');
    } finally {
      await e.removeContainer(id);
    }
  });
});

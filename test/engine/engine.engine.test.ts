import { describe, expect, it } from 'vitest';
import { connectEngine, EngineUnavailableError } from '@4pass/builder';
import { engine } from './helpers.js';

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

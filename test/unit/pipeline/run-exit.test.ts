import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseEngineSpecs,
  runExit,
  UnknownImageError,
  withCacheOverrides,
  type ImagesConfig,
  type RunImagesResult,
} from '@4pass/builder';

const result = (over: Partial<RunImagesResult> = {}): RunImagesResult =>
  ({
    report: { pass: true, errors: [], images: [] },
    builds: {},
    pushes: {},
    images: {},
    ...over,
  }) as unknown as RunImagesResult;

describe('runExit: how a run ends, in one place', () => {
  it('a usage or config error is 2, any other error before the gate 3, an interrupt 130/143', () => {
    expect(runExit({ error: new UnknownImageError(['nope'], ['api']) }).code).toBe(2);
    expect(runExit({ error: new ConfigError('images.config.json', []) }).code).toBe(2);
    expect(runExit({ error: new Error('engine down') })).toEqual({ code: 3, messages: ['engine down'] });
    expect(runExit({ error: new Error('x'), signal: 'SIGTERM' }).code).toBe(143);
  });

  it('the gate decides, unless a push failed or the run was interrupted (saying what was pushed)', () => {
    expect(runExit({ result: result() }).code).toBe(0);
    expect(runExit({ result: result({ report: { pass: false, errors: [], images: [] } as never }) }).code).toBe(1);
    const failedPush = result({ pushes: { api: { status: 'failed', message: 'HTTP 500' } as never } });
    expect(runExit({ result: failedPush })).toEqual({ code: 3, messages: ['push of api failed: HTTP 500'] });
    const interrupted = result({
      interrupted: {
        stage: 'push',
        inFlight: [],
        pushed: [{ image: 'api', tags: [{ tag: 'sha-1', digest: 'd', via: 'engine-push' }] }],
      },
    });
    expect(runExit({ result: interrupted, signal: 'SIGINT' })).toEqual({
      code: 130,
      messages: ['interrupted during push: pushed api:sha-1'],
    });
  });
});

describe('the CLI’s inputs, decided by the library', () => {
  it('parseEngineSpecs: NAME=ADDRESS, every bad value and repeated name in one ConfigError', () => {
    expect(parseEngineSpecs(['b=tcp://10.0.0.5:2376'])).toEqual([
      { name: 'b', host: 'tcp://10.0.0.5:2376', source: '--engine b' },
    ]);
    const error = (() => {
      try {
        parseEngineSpecs(['x', 'a=unix:///s', 'a=ssh://h']);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.issues.map((i) => i.path)).toEqual(['x', 'a']);
  });

  it('withCacheOverrides: PREFIX/<image> for every image, the config untouched without flags', () => {
    const config = { images: [{ name: 'api' }, { name: 'worker' }] } as unknown as ImagesConfig;
    expect(withCacheOverrides(config, {})).toBe(config);
    const over = withCacheOverrides(config, { from: ['reg/cache'], to: 'reg/cache' });
    expect(over.images.map((i) => i.cache)).toEqual([
      { from: ['reg/cache/api'], to: 'reg/cache/api' },
      { from: ['reg/cache/worker'], to: 'reg/cache/worker' },
    ]);
  });
});

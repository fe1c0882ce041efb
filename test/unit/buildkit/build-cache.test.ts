import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildImage } from '../../../packages/builder/src/buildkit/build-image.js';
import { recorded, replayEngine } from './replay-engine.js';

const contextDir = fileURLToPath(new URL('../../fixtures/contexts/multistage', import.meta.url));
const LOCAL = '4pass-local/python:3.11-slim';
const requests = (engine: ReturnType<typeof replayEngine>) =>
  engine.requests.map((r) => ({
    target: r.target,
    tags: r.tags,
    cacheFrom: r.cacheFrom,
    inline: r.buildArgs?.BUILDKIT_INLINE_CACHE,
  }));

describe('buildImage with a registry build cache', () => {
  it('writing: each stage the target copies from is built and tagged with its inline cache, then the target', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: [LOCAL] });
    await buildImage({
      engine,
      contextDir,
      tags: ['x:1'],
      cache: { from: ['reg:5000/shared-cache'], to: 'reg:5000/cache' },
    });
    const refs = [
      'reg:5000/shared-cache:builder',
      'reg:5000/shared-cache:final',
      'reg:5000/cache:builder',
      'reg:5000/cache:final',
    ];
    expect(requests(engine)).toEqual([
      { target: 'builder', tags: ['reg:5000/cache:builder'], cacheFrom: refs, inline: '1' },
      { target: undefined, tags: ['x:1', 'reg:5000/cache:final'], cacheFrom: refs, inline: '1' },
    ]);
  });

  it('reading only: one build of the target that reads every stage of every cache repository, no inline cache', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: [LOCAL] });
    await buildImage({ engine, contextDir, cache: { from: ['reg:5000/cache'] } });
    expect(requests(engine)).toEqual([
      { target: undefined, tags: [], cacheFrom: ['reg:5000/cache:builder', 'reg:5000/cache:final'], inline: undefined },
    ]);
  });

  it('no cache: a plain build', async () => {
    const engine = replayEngine(recorded('cached-rebuild'), { images: [LOCAL] });
    await buildImage({ engine, contextDir, cache: { from: [] } });
    expect(requests(engine)).toEqual([{ target: undefined, tags: [], cacheFrom: undefined, inline: undefined }]);
  });
});

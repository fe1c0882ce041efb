import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BaseImageError, type Engine, type ImageInspect } from '@4pass/builder';
import { resolveBaseImages } from '../../../packages/builder/src/build/base-images.js';
import { fakeEngine } from '../fakes/engine-fakes.js';

/** An engine that knows `images`; `loadImage` adds whatever the tar names (the tar is the ref's name here). */
function engine(address: string, images: string[], log: string[]): Engine {
  const have = new Set(images);
  return fakeEngine(address, {
    identity: { name: address },
    images: {
      inspectImage: async (ref: string) => (have.has(ref) ? ({ Id: `sha256:${ref}` } as ImageInspect) : undefined),
      tryPull: async () => false,
      exportImage: async (ref: string) => {
        log.push(`export ${ref} from ${address}`);
        return Readable.from([ref]);
      },
      loadImage: async (tar: Readable) => {
        let ref = '';
        for await (const chunk of tar) ref += String(chunk);
        have.add(ref);
        log.push(`load ${ref} into ${address}`);
        return [ref];
      },
    },
  });
}

const DOCKERFILE = 'ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE}\n';

describe('resolveBaseImages with a source engine', () => {
  it('loads the local stand-in from the source when the building engine has neither image', async () => {
    const log: string[] = [];
    const home = engine('local', ['4pass-local/python:3.11-slim'], log);
    const remote = engine('remote', [], log);
    const resolved = await resolveBaseImages({ engine: remote, dockerfile: DOCKERFILE, source: home });
    expect(resolved).toEqual([
      {
        arg: 'PYTHON_IMAGE',
        requested: 'python:3.11-slim',
        used: '4pass-local/python:3.11-slim',
        fallback: true,
        loadedFrom: 'local (local)',
      },
    ]);
    expect(log).toEqual([
      'export 4pass-local/python:3.11-slim from local',
      'load 4pass-local/python:3.11-slim into remote',
    ]);
    // Now present: a second build loads nothing.
    await resolveBaseImages({ engine: remote, dockerfile: DOCKERFILE, source: home });
    expect(log).toHaveLength(2);
  });

  it('prefers the official image when the source has it, and fails naming both when nobody has either', async () => {
    const log: string[] = [];
    const home = engine('local', ['python:3.11-slim'], log);
    const resolved = await resolveBaseImages({
      engine: engine('remote', [], log),
      dockerfile: DOCKERFILE,
      source: home,
    });
    expect(resolved[0]).toMatchObject({ used: 'python:3.11-slim', fallback: false });
    await expect(
      resolveBaseImages({
        engine: engine('remote', [], log),
        dockerfile: DOCKERFILE,
        source: engine('empty', [], log),
      }),
    ).rejects.toThrow(BaseImageError);
  });
});

import { describe, expect, it } from 'vitest';
import { classifyBuildMessage } from '../../../packages/builder/src/buildkit/read-build-stream.js';

describe('classifyBuildMessage', () => {
  it('prefers errorDetail over error and keeps the code', () => {
    expect(classifyBuildMessage({ error: 'short', errorDetail: { message: 'long', code: 2 } })).toEqual({
      kind: 'daemon-error',
      error: { message: 'long', code: 2 },
    });
    expect(classifyBuildMessage({ error: 'only' })).toEqual({ kind: 'daemon-error', error: { message: 'only' } });
  });

  it('reads the image id and ignores an id that is not a string', () => {
    expect(classifyBuildMessage({ id: 'moby.image.id', aux: { ID: 'sha256:abc' } })).toEqual({
      kind: 'image-id',
      imageId: 'sha256:abc',
    });
    expect(classifyBuildMessage({ id: 'moby.image.id', aux: { ID: 1 } })).toBeUndefined();
  });

  it('passes trace payloads on and trims one trailing newline from stream text', () => {
    expect(classifyBuildMessage({ id: 'moby.buildkit.trace', aux: 'AAAA' })).toEqual({ kind: 'trace', aux: 'AAAA' });
    expect(classifyBuildMessage({ stream: 'hello\n' })).toEqual({ kind: 'message', text: 'hello' });
    expect(classifyBuildMessage({ stream: '  \n' })).toBeUndefined();
  });
});

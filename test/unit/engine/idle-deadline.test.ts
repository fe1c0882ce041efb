import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StallError, withIdleDeadline } from '../../../packages/builder/src/engine/idle-deadline.js';

describe('withIdleDeadline', () => {
  it('passes items through while they keep coming', async () => {
    async function* items() {
      for (const n of [1, 2, 3]) {
        await new Promise((r) => setTimeout(r, 10));
        yield n;
      }
    }
    const seen: number[] = [];
    for await (const n of withIdleDeadline(items(), { idleMs: 200, waitingFor: () => 'x', onStall: () => undefined }))
      seen.push(n);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('a silent stream: notices name what is awaited, then StallError after the deadline, and the request is aborted', async () => {
    const stream = new PassThrough({ objectMode: true });
    stream.write({ status: 'Preparing' });
    let current = 'the push of app:sha-abc1234';
    const notices: { waitingFor: string; silentMs: number }[] = [];
    const started = Date.now();
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const item of withIdleDeadline(stream, {
        idleMs: 250,
        noticeMs: 100,
        waitingFor: () => current,
        onWaiting: (n) => notices.push(n),
        onStall: () => stream.destroy(),
      })) {
        seen.push(item);
        current = 'the push of app:sha-abc1234 (layer l1: Pushing)';
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ status: 'Preparing' }]);
    expect(error).toBeInstanceOf(StallError);
    expect((error as StallError).waitingFor).toBe('the push of app:sha-abc1234 (layer l1: Pushing)');
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices[0]?.waitingFor).toBe('the push of app:sha-abc1234 (layer l1: Pushing)');
    expect(stream.destroyed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

import { FourpassError } from '../errors/fourpass-error.js';

/** A stream from the engine sent nothing for longer than its deadline; the request was abandoned. */
export class StallError extends FourpassError {
  override readonly name = 'StallError' as const;
  constructor(
    /** What was being waited for, e.g. `the engine's push of 127.0.0.1:5000/app:sha-abc1234 (layer 3f2a…)`. */
    readonly waitingFor: string,
    readonly idleMs: number,
  ) {
    super(`no progress for ${Math.round(idleMs / 1000)} s while waiting for ${waitingFor}`);
  }
}

export interface IdleDeadlineOptions {
  /** Longest silence allowed between two items. */
  idleMs: number;
  /** Described when a notice is due or the deadline passes (reads the caller's current state). */
  waitingFor: () => string;
  /** Every `noticeMs` of silence (default 10 s): tell the user what is being waited for, and for how long. */
  onWaiting?: (notice: { waitingFor: string; silentMs: number }) => void;
  noticeMs?: number;
  /**
   * Called when the deadline passes, before StallError is thrown: abort the request here. (A pending `next()` of a
   * stream-backed iterator only settles once its stream is destroyed.)
   */
  onStall: () => void;
}

/**
 * Passes `source` through, failing with {@link StallError} when no item arrives for `idleMs`, and announcing long
 * silences through `onWaiting` before that.
 */
export async function* withIdleDeadline<T>(source: AsyncIterable<T>, options: IdleDeadlineOptions): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const result = await nextWithin(iterator, options);
      if (result.done) return void (done = true);
      yield result.value;
    }
  } finally {
    // Stopped early (break, stall, error): let the source clean up, without waiting on a read still pending.
    if (!done) void iterator.return?.()?.catch(() => undefined);
  }
}

function nextWithin<T>(iterator: AsyncIterator<T>, options: IdleDeadlineOptions): Promise<IteratorResult<T>> {
  const noticeMs = options.noticeMs ?? 10_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const notices = setInterval(
      () => options.onWaiting?.({ waitingFor: options.waitingFor(), silentMs: Date.now() - started }),
      noticeMs,
    );
    const deadline = setTimeout(() => {
      settle();
      const stall = new StallError(options.waitingFor(), options.idleMs);
      options.onStall();
      reject(stall);
    }, options.idleMs);
    function settle(): void {
      clearInterval(notices);
      clearTimeout(deadline);
    }
    iterator.next().then(
      (result) => (settle(), resolve(result)),
      (error: unknown) => (settle(), reject(error)),
    );
  });
}

import { FourpassError } from '../errors/fourpass-error.js';

/** Name a build context / Dockerfile problem (missing file, unreadable path). */
export class ContextError extends FourpassError {
  override readonly name = 'ContextError' as const;
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

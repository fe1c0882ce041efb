import { FourpassError } from '../errors/fourpass-error.js';

/** A docker-save archive could not be read or is not laid out as expected. */
export class ImageArchiveError extends FourpassError {
  override readonly name = 'ImageArchiveError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The image to inspect does not exist on the engine. */
export class ImageNotFoundError extends FourpassError {
  override readonly name = 'ImageNotFoundError' as const;
  constructor(readonly ref: string) {
    super(`image ${ref} does not exist on the engine`);
  }
}

import { FourpassError } from '../errors/fourpass-error.js';

/** A repository reference is not `host[:port]/name` (lower-case path components, no tag or digest). */
export class InvalidRepositoryError extends FourpassError {
  override readonly name = 'InvalidRepositoryError' as const;
  constructor(
    readonly repository: string,
    readonly reason: string,
  ) {
    super(`invalid repository "${repository}": ${reason} (expected host[:port]/name, e.g. 127.0.0.1:5000/app)`);
  }
}

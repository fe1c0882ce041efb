import { OptimizerError } from '../shared/errors.js';

/** The minimal tree cannot be computed: a missing interpreter, library, user, or a kept import of a dropped module. */
export class ClosureError extends OptimizerError {
  override readonly name = 'ClosureError' as const;
}

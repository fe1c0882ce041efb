import { FourpassError } from '../errors/fourpass-error.js';
import type { ReleaseCheck } from './release-checks.js';

/** The image may not be released: its evidence is missing, names another image, or says the gate failed. */
export class ReleaseRefusedError extends FourpassError {
  override readonly name = 'ReleaseRefusedError' as const;
  constructor(
    /** `host/name`. */
    readonly repository: string,
    readonly from: string,
    /** Every check, the failed ones with the reason. */
    readonly checks: readonly ReleaseCheck[],
  ) {
    const why = checks.filter((c) => c.status === 'fail').map((c) => c.message);
    super(`refusing to release ${repository}:${from}: ${why.join('; ')}. Nothing was moved.`);
  }
}

/** A registry request of a release failed for a reason that is not worth a retry (the registry's own answer). */
export class ReleaseError extends FourpassError {
  override readonly name = 'ReleaseError' as const;
  constructor(
    readonly repository: string,
    /** What was being done, e.g. `point latest at sha256:…`. */
    readonly operation: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`release of ${repository}: ${operation} failed: ${reason}`, options);
  }
}

import type { RuleLevel } from '../config/rule-schema.js';

/** Outcome of one rule: `skip` when switched off or not measurable. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** Unit of a check's `actual` and `limit`. */
export type CheckUnit = 'bytes' | 'ms' | 'count' | 'ratio' | 'percent';

/**
 * One evaluated rule, like a dive CI rule. `actual` and `limit` carry the numbers (in `unit`) or, for structure checks,
 * a short description; never a secret value.
 */
export interface Check {
  /** Stable id: `size`, `compressedSize`, `layers`, `wastedBytes`, `efficiency`, `startupMedian`, `startupP95`,
   * `pathSize:/opt/venv`, `growth`, `startup`, `nonRoot`, `healthcheck`, `absentPath:/x`, `presentPath:/x`,
   * `botocoreServices`, `noSecrets`, `scannerVisible`. */
  id: string;
  status: CheckStatus;
  actual: number | string | null;
  limit: number | string | null;
  unit?: CheckUnit;
  /** The configured level: what a violation becomes (`warn` or `fail`). */
  level: RuleLevel;
  /** One line with both numbers, e.g. `size=182.3 MB > budget=170 MB`. */
  message: string;
  /** Extra lines (e.g. paths found, findings). Never contains a secret value. */
  details?: string[];
}

/** A check that failed at its level (`fail`) or reported a violation as a warning (`warn`). */
export function violated(check: Check): boolean {
  return check.status === 'fail' || check.status === 'warn';
}

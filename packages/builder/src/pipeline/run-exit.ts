import { ConfigError } from '../errors/config-error.js';
import { RegistrySettingsError, UnknownImageError } from '../config/config-errors.js';
import { DirtyWorkTreeError } from '../push/push-errors.js';
import { InvalidRepositoryError } from '../references/reference-errors.js';
import { gateExitCode } from '../report/evaluate-image.js';
import type { RunImagesResult } from './run-result.js';

/** `pnpm build:images`'s exit codes; 128 + the signal's number after SIGINT / SIGTERM. */
export const RUN_EXIT = { ok: 0, budget: 1, usage: 2, failure: 3, SIGINT: 130, SIGTERM: 143 } as const;

/** How a run ends: the exit code and the lines to say (failures and interruptions; the report says the rest). */
export interface RunExit {
  code: number;
  messages: string[];
}

/**
 * The one decision of how `runImages` ended, for the CLI: a usage or config error (2), any other error before the
 * gate (3), an interruption (130 / 143, saying what was pushed), a failed push (3), else the gate's verdict (0 / 1, or
 * 3 when an image could not be built or measured).
 */
export function runExit(outcome: {
  result?: RunImagesResult;
  error?: unknown;
  signal?: 'SIGINT' | 'SIGTERM';
}): RunExit {
  const { result, error, signal } = outcome;
  if (!result) {
    if (signal)
      return { code: RUN_EXIT[signal], messages: ['interrupted before anything was built: nothing was pushed'] };
    const message = error instanceof Error ? error.message : String(error);
    return { code: isUsageError(error) ? RUN_EXIT.usage : RUN_EXIT.failure, messages: [message] };
  }
  if (result.interrupted || signal) {
    const pushed = (result.interrupted?.pushed ?? []).flatMap((p) => p.tags.map((t) => `${p.image}:${t.tag}`));
    const stage = result.interrupted?.stage ?? 'the end of the run';
    const what = pushed.length ? `pushed ${pushed.join(', ')}` : 'nothing was pushed';
    return { code: RUN_EXIT[signal ?? 'SIGINT'], messages: [`interrupted during ${stage}: ${what}`] };
  }
  const failed = Object.entries(result.pushes).flatMap(([image, p]) =>
    p.status === 'failed' ? [`push of ${image} failed: ${p.message}`] : [],
  );
  return failed.length
    ? { code: RUN_EXIT.failure, messages: failed }
    : { code: gateExitCode(result.report), messages: [] };
}

/** Errors a person fixes in the command or the config (exit 2), not in the environment. */
export function isUsageError(error: unknown): boolean {
  return [ConfigError, DirtyWorkTreeError, UnknownImageError, RegistrySettingsError, InvalidRepositoryError].some(
    (type) => error instanceof type,
  );
}

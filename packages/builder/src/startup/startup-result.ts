import type { ImportTimeRecord } from './import-profile.js';
import type { ReadyProbe } from '../config/config-types.js';

/** One start of the container. */
export interface StartupRun {
  /** 1-based run number. */
  run: number;
  ok: boolean;
  /** Container start request → ready, measured on the host (ms). Undefined when the run failed. */
  readyMs?: number;
  /** In-container process time reported by the image (`processTimePattern`), ms. */
  processMs?: number;
  /** Why the run failed (timeout, exit before ready…). */
  error?: string;
}

/** A failed run with the container's last output lines (credential-looking values redacted). */
export interface StartupFailure {
  run: number;
  reason: string;
  logTail: string[];
}

/** The result of `measureStartup`. */
export interface StartupResult {
  image: string;
  ready: ReadyProbe['kind'];
  runs: StartupRun[];
  /** All runs became ready. */
  ok: boolean;
  /** Median of the successful runs' `readyMs`. */
  medianMs?: number;
  /** 95th percentile (nearest rank) of the successful runs' `readyMs`. */
  p95Ms?: number;
  minMs?: number;
  maxMs?: number;
  /** Median of `processMs` when the image reports it. */
  processMedianMs?: number;
  failures: StartupFailure[];
  /** Real uid of PID 1 once ready (first successful run), from the engine's process list (no shell in the image). */
  runtimeUid?: number;
  /** With `profileImports`: the import-time lines of one extra run (Python images only). */
  importTimes?: ImportTimeRecord[];
  settings: StartupSettings;
}

/** The measurement settings that matter for reading the numbers. */
export interface StartupSettings {
  runs: number;
  timeoutMs: number;
  network: boolean;
  readOnly: boolean;
  user?: string;
  healthcheckIntervalMs?: number;
}

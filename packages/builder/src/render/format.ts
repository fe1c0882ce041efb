import { goFixed } from '../units/format-units.js';

/** Seconds since a step started, with BuildKit's precision: 3 decimals below 10 s, 2 below 100 s, else 1. */
export function formatLogTime(elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  return goFixed(seconds, seconds < 10 ? 3 : seconds < 100 ? 2 : 1);
}

/** `1.2s`, as in `#5 DONE 1.2s`. */
export function formatSeconds(ms: number): string {
  return `${goFixed(ms / 1000, 1)}s`;
}

/** Byte counts the way BuildKit prints them (tonistiigi/units `%.2f`): `123B`, `1.23kB`, `4.56MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  let base = 1;
  while (i < units.length - 1 && bytes >= base * 1000) {
    base *= 1000;
    i++;
  }
  return i === 0 ? `${Math.trunc(bytes)}B` : `${goFixed(bytes / base, 2)}${units[i]}`;
}

/** Seconds since a step started, with BuildKit's precision: 3 decimals below 10 s, 2 below 100 s, else 1. */
export function formatLogTime(elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  return goFixed(seconds, seconds < 10 ? 3 : seconds < 100 ? 2 : 1);
}

/** `1.2s`, as in `#5 DONE 1.2s`. */
export function formatSeconds(ms: number): string {
  return `${goFixed(ms / 1000, 1)}s`;
}

/**
 * `x.toFixed(digits)` with Go's `%.Nf` rounding: an exact tie rounds to even (Go prints 1.25 as "1.2", JS as "1.3").
 * Non-negative `x` only.
 */
export function goFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  if (x < 0 || digits <= 0) return rounded;
  const exact = x.toFixed(Math.min(100, digits + 60)); // the double's exact decimal expansion (enough digits)
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return rounded;
  const truncated = exact.slice(0, dot + 1 + digits);
  const last = Number(truncated.at(-1));
  return last % 2 === 0 ? truncated : rounded;
}

/**
 * Formatting of sizes, durations and ratios for messages and reports. Decimal units (kB, MB, GB) like `docker images`
 * and dive; BuildKit's own progress format where the live view mirrors `docker build --progress=plain`.
 */

/** Formats bytes with decimal units like `docker images`: `"182.3 MB"`, `"950 B"`. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let n = Math.abs(bytes);
  if (n < 1000) return `${sign}${Math.round(n)} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${sign}${trimZeros(n.toFixed(n < 10 ? 2 : 1))} ${units[i]}`;
}

/** Formats a signed byte delta: `"+1.2 MB"`, `"-300 kB"`, `"0 B"`. */
export function formatBytesDelta(bytes: number): string {
  return bytes > 0 ? `+${formatBytes(bytes)}` : formatBytes(bytes);
}

/** Formats milliseconds: `"432 ms"`, `"1.52 s"`. */
export function formatDuration(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 60_000) return `${trimZeros((ms / 1000).toFixed(2))} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${trimZeros(((ms - m * 60_000) / 1000).toFixed(1))}s`;
}

/** Megabytes with one decimal, for progress lines: `"182.3 MB"`. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Formats a ratio as a percentage: `0.853` → `"85.3%"`. */
export function formatRatio(ratio: number): string {
  return `${trimZeros((ratio * 100).toFixed(1))}%`;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Byte counts the way BuildKit prints them (tonistiigi/units `%.2f`): `123B`, `1.23kB`, `4.56MB`. */
export function formatBuildkitBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  let base = 1;
  while (i < units.length - 1 && bytes >= base * 1000) {
    base *= 1000;
    i++;
  }
  return i === 0 ? `${Math.trunc(bytes)}B` : `${goFixed(bytes / base, 2)}${units[i]}`;
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

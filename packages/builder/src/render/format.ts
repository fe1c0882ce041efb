/** Byte counts the way BuildKit prints them (tonistiigi/units `%.2f`): `123B`, `1.23kB`, `4.56MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  let base = 1;
  while (i < units.length - 1 && bytes >= base * 1000) {
    base *= 1000;
    i++;
  }
  return i === 0 ? `${Math.trunc(bytes)}B` : `${(bytes / base).toFixed(2)}${units[i]}`;
}

/** Seconds since a step started, with BuildKit's precision: 3 decimals below 10 s, 2 below 100 s, else 1. */
export function formatLogTime(elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  return seconds.toFixed(seconds < 10 ? 3 : seconds < 100 ? 2 : 1);
}

/** `1.2s`, as in `#5 DONE 1.2s`. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

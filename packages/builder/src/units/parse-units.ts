/**
 * Units used by the images config and the reports: sizes (`"180MB"`, `"1.5GiB"`, a number = bytes), durations
 * (`"1.5s"`, `"300ms"`, a number = milliseconds), ratios (`0.9`, `"90%"`). Decimal units (kB, MB, GB) are powers of
 * 1000 and binary units (KiB, MiB, GiB) powers of 1024, like dive's and `docker images`' output.
 */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a size into bytes: a non-negative number (bytes) or a string such as `"180MB"`, `"1.5 GiB"`, `"512k"`.
 * @throws {RangeError} when the value is not a valid size (the message says why, without a path).
 */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`expected a size >= 0, got ${value}`);
    return Math.round(value);
  }
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m?.[2]?.toLowerCase();
  const factor = unit === undefined ? undefined : SIZE_UNITS[unit];
  if (!m || factor === undefined) {
    throw new RangeError(
      `expected a size such as "180MB", "1.5GiB" or a number of bytes, got ${JSON.stringify(value)}`,
    );
  }
  return Math.round(Number(m[1]) * factor);
}

/**
 * Parses a duration into milliseconds: a non-negative number (ms) or a string such as `"1.5s"`, `"300ms"`, `"1m30s"`.
 * @throws {RangeError} when the value is not a valid duration.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`expected a duration >= 0, got ${value}`);
    return value;
  }
  const text = value.trim();
  const part = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = part.exec(text)) !== null) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    consumed = part.lastIndex;
    while (text[consumed] === ' ') consumed++;
    part.lastIndex = consumed;
  }
  if (text === '' || consumed !== text.length) {
    throw new RangeError(
      `expected a duration such as "1.5s", "300ms" or a number of milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return total;
}

/**
 * Parses a ratio in [0, 1]: a number (`0.9`) or a percentage string (`"90%"`).
 * @throws {RangeError} when the value is not a ratio between 0 and 1.
 */
export function parseRatio(value: string | number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(value);
    if (!m) throw new RangeError(`expected a ratio such as 0.9 or "90%", got ${JSON.stringify(value)}`);
    n = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  }
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new RangeError(`expected a ratio between 0 and 1 (or 0%..100%), got ${JSON.stringify(value)}`);
  return n;
}

/** A growth limit: absolute bytes (`"10MB"`) or a percentage of the baseline (`"5%"`). */
export type GrowthLimit = { unit: 'bytes'; limit: number } | { unit: 'percent'; limit: number };

/**
 * Parses a growth limit: `"5%"` (percent of the baseline) or a size (`"10MB"`, a number = bytes).
 * @throws {RangeError} when the value is neither.
 */
export function parseGrowth(value: string | number): GrowthLimit {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(value);
    if (m) return { unit: 'percent', limit: Number(m[1]) };
  }
  try {
    return { unit: 'bytes', limit: parseSize(value) };
  } catch {
    throw new RangeError(`expected a growth limit such as "5%" or "10MB", got ${JSON.stringify(value)}`);
  }
}

import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../../packages/builder/src/units/format-units.js';
import { parseDuration, parseGrowth, parseRatio, parseSize } from '../../../packages/builder/src/units/parse-units.js';

describe('parseSize', () => {
  it.each([
    ['180MB', 180_000_000],
    ['180 MB', 180_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['512k', 512_000],
    ['2KiB', 2048],
    ['10b', 10],
    ['42', 42],
    [1234, 1234],
    ['0.5mb', 500_000],
  ])('%s → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['', 'MB', '180 parsecs', '-1MB', '1.2.3MB', 'ten'])('rejects %j', (input) => {
    expect(() => parseSize(input)).toThrow(/expected a size/);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseSize(-1)).toThrow(RangeError);
    expect(() => parseSize(Number.NaN)).toThrow(RangeError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1.5s', 1500],
    ['300ms', 300],
    ['1m30s', 90_000],
    ['1m 30s', 90_000],
    ['2h', 7_200_000],
    [250, 250],
  ])('%s → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'fast', '10', '1.5 sec', 's', '5s extra'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected a duration/);
  });
});

describe('parseRatio / parseGrowth', () => {
  it('accepts numbers in [0,1] and percentages', () => {
    expect(parseRatio(0.9)).toBe(0.9);
    expect(parseRatio('95%')).toBeCloseTo(0.95);
    expect(() => parseRatio(1.5)).toThrow(/between 0 and 1/);
    expect(() => parseRatio('150%')).toThrow(/between 0 and 1/);
  });

  it('parses percent and byte growth limits', () => {
    expect(parseGrowth('5%')).toEqual({ unit: 'percent', limit: 5 });
    expect(parseGrowth('10MB')).toEqual({ unit: 'bytes', limit: 10_000_000 });
    expect(() => parseGrowth('lots')).toThrow(/growth limit/);
  });
});

describe('formatting', () => {
  it('formats bytes with decimal units', () => {
    expect(formatBytes(950)).toBe('950 B');
    expect(formatBytes(182_300_000)).toBe('182.3 MB');
    expect(formatBytes(170_000_000)).toBe('170 MB');
    expect(formatBytes(1_520_000)).toBe('1.52 MB');
    expect(formatBytes(-2_000)).toBe('-2 kB');
  });

  it('formats durations', () => {
    expect(formatDuration(432.4)).toBe('432 ms');
    expect(formatDuration(1520)).toBe('1.52 s');
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});

import { z } from 'zod';
import { normalizeImagePath } from '../paths/normalize-image-path.js';
import { parseDuration, parseGrowth, parseRatio, parseSize, type GrowthLimit } from '../units/parse-units.js';

/**
 * Zod pieces for the values of `images.config.json`: budget rules with units (`"180MB"`, `{ limit, level }`, `"off"`),
 * durations, absolute image paths, regular expressions. Units are parsed here, once.
 */

/** `warn` reports without failing the gate; `fail` (the default) fails it. */
export type RuleLevel = 'warn' | 'fail';

/** A budget rule after parsing: a limit with its level, or explicitly switched off (`"off"` / `false`). */
export type Rule = { enabled: true; limit: number; level: RuleLevel } | { enabled: false };

/** The growth rule (vs the baseline report): bytes or percent of the baseline size. */
export type GrowthRule =
  ({ enabled: true; level: RuleLevel; of: 'size' | 'compressedSize' } & GrowthLimit) | { enabled: false };

export type UnitKind = 'size' | 'duration' | 'count' | 'ratio';

const parsers: Record<UnitKind, (v: string | number) => number> = {
  size: parseSize,
  duration: parseDuration,
  ratio: parseRatio,
  count: (v) => {
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`expected a whole number >= 0, got ${JSON.stringify(v)}`);
    return n;
  },
};

const examples: Record<UnitKind, string> = {
  size: '"180MB"',
  duration: '"1.5s"',
  count: '20',
  ratio: '0.9 or "90%"',
};

type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, message: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path });
}

function ruleLevel(value: unknown, ctx: Ctx): RuleLevel | undefined {
  if (value === undefined) return 'fail';
  if (value === 'warn' || value === 'fail') return value;
  issue(ctx, `level must be "warn" or "fail", got ${JSON.stringify(value)}`, ['level']);
  return undefined;
}

function parseLimit(kind: UnitKind, value: unknown, ctx: Ctx, path: (string | number)[]): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issue(ctx, `expected a limit such as ${examples[kind]}, got ${JSON.stringify(value)}`, path);
    return undefined;
  }
  try {
    return parsers[kind](value);
  } catch (e) {
    issue(ctx, (e as Error).message, path);
    return undefined;
  }
}

/** A rule: a limit (`"180MB"`), `{ limit, level }`, or `"off"` / `false`. */
export function rule(kind: UnitKind) {
  return z.unknown().transform((value, ctx): Rule => {
    if (value === 'off' || value === false) return { enabled: false };
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (k !== 'limit' && k !== 'level') issue(ctx, `unknown key "${k}" (a rule has limit and level)`, [k]);
      const level = ruleLevel(o.level, ctx);
      if (o.limit === 'off' || o.limit === false) return { enabled: false };
      const limit = parseLimit(kind, o.limit, ctx, ['limit']);
      return limit === undefined || level === undefined ? z.NEVER : { enabled: true, limit, level };
    }
    if (value === true) {
      issue(
        ctx,
        `expected a limit such as ${examples[kind]}, "off" or { "limit": …, "level": "warn" }; true is not a limit`,
      );
      return z.NEVER;
    }
    const limit = parseLimit(kind, value, ctx, []);
    return limit === undefined ? z.NEVER : { enabled: true, limit, level: 'fail' };
  });
}

export const growthRule = z.unknown().transform((value, ctx): GrowthRule => {
  if (value === 'off' || value === false) return { enabled: false };
  let raw: unknown = value;
  let level: RuleLevel | undefined = 'fail';
  let of: 'size' | 'compressedSize' = 'size';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!['limit', 'level', 'of'].includes(k)) issue(ctx, `unknown key "${k}" (growth has limit, level and of)`, [k]);
    level = ruleLevel(o.level, ctx);
    if (o.of !== undefined && o.of !== 'size' && o.of !== 'compressedSize')
      issue(ctx, `of must be "size" or "compressedSize"`, ['of']);
    else if (o.of) of = o.of;
    raw = o.limit;
    if (raw === 'off' || raw === false) return { enabled: false };
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    issue(
      ctx,
      `expected a growth limit such as "5%" or "10MB", got ${JSON.stringify(raw)}`,
      raw === value ? [] : ['limit'],
    );
    return z.NEVER;
  }
  try {
    const limit = parseGrowth(raw);
    return level === undefined ? z.NEVER : { enabled: true, level, of, ...limit };
  } catch (e) {
    issue(ctx, (e as Error).message, raw === value ? [] : ['limit']);
    return z.NEVER;
  }
});

/** An absolute path inside the image, normalised. */
export const absPath = z
  .string()
  .refine((p) => p.startsWith('/'), { message: 'must be an absolute path inside the image (start with "/")' })
  .transform(normalizeImagePath);

/** A value with a unit (`"1.5s"`) or a plain number, parsed. */
export const valueOf = (kind: UnitKind) =>
  z.unknown().transform((value, ctx): number => {
    const n = parseLimit(kind, value, ctx, []);
    return n === undefined ? z.NEVER : n;
  });

/** A string that compiles as a regular expression. */
export const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid regular expression' },
);

/**
 * Python's import-time profile (`python -X importtime`, or `PYTHONPROFILEIMPORTTIME=1` in the environment, which
 * needs no shell in the image): one stderr line per imported module,
 * `import time: <self µs> | <cumulative µs> | <2 spaces per nesting level><module>`, written when the module finished
 * importing (children before their parent). Pure parsing and summarising; tested on real output.
 */

/** One line of `-X importtime` output. */
export interface ImportTimeRecord {
  module: string;
  /** Time spent in this module's own body (µs). */
  selfUs: number;
  /** Including the modules it imported first (µs). */
  cumulativeUs: number;
  /** 0 for an import made by the program itself, 1 for one made by such a module, … */
  depth: number;
}

/** Who owns an import name: a distribution (`botocore`), `(stdlib)` or `(application)`. */
export type ModuleOwner = (moduleRoot: string) => string;

/** A module of the profile, times in ms. */
export interface ProfiledModule {
  module: string;
  distribution: string;
  cumulativeMs: number;
  selfMs: number;
  depth: number;
}

/** Import time per owner: the self times of its modules added up, so nothing is counted twice. */
export interface DistributionImportTime {
  distribution: string;
  ms: number;
  modules: number;
  /** The module of this distribution with the largest cumulative time (often the one the program imported). */
  entry: string;
  entryCumulativeMs: number;
}

/** The summary kept in reports. */
export interface ImportProfile {
  /** Sum of the program's own imports' cumulative times (ms): all import work of the run. */
  totalMs: number;
  moduleCount: number;
  /** The imports the program made itself (depth 0), slowest first. */
  topLevel: ProfiledModule[];
  /** The slowest modules at any depth by cumulative time. */
  slowest: ProfiledModule[];
  /** Slowest first. */
  byDistribution: DistributionImportTime[];
}

// `import time:` + self + cumulative + the indented name; tolerant of CR and of a prefix such as a log timestamp.
const LINE = /import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$/;

/** Parses the importtime lines out of a process's stderr; every other line (tracebacks, logs) is ignored. */
export function parseImportTime(text: string): ImportTimeRecord[] {
  const out: ImportTimeRecord[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (!m?.[4]) continue;
    out.push({
      module: m[4],
      selfUs: Number(m[1]),
      cumulativeUs: Number(m[2]),
      // The format is `| %*s%s` with 2 spaces per level after the separator's own space.
      depth: Math.max(0, Math.floor(((m[3] ?? '').length - 1) / 2)),
    });
  }
  return out;
}

/** The first segment of a dotted module name: the import name a distribution provides. */
export function moduleRoot(module: string): string {
  const dot = module.indexOf('.');
  return dot < 0 ? module : module.slice(0, dot);
}

export interface SummarizeImportsOptions {
  owner: ModuleOwner;
  /** How many modules `topLevel` and `slowest` keep (default 15). */
  top?: number;
}

const ms = (us: number): number => Math.round(us / 100) / 10;

/** Summarises parsed records: the program's imports, the slowest modules, and time per distribution. */
export function summarizeImports(
  records: readonly ImportTimeRecord[],
  options: SummarizeImportsOptions,
): ImportProfile {
  const top = options.top ?? 15;
  const modules = records.map((r) => ({
    module: r.module,
    distribution: options.owner(moduleRoot(r.module)),
    cumulativeMs: ms(r.cumulativeUs),
    selfMs: ms(r.selfUs),
    depth: r.depth,
  }));
  const slowestFirst = (a: ProfiledModule, b: ProfiledModule) =>
    b.cumulativeMs - a.cumulativeMs || a.module.localeCompare(b.module);
  const topLevel = modules.filter((m) => m.depth === 0);
  return {
    totalMs: ms(records.filter((r) => r.depth === 0).reduce((a, r) => a + r.cumulativeUs, 0)),
    moduleCount: records.length,
    topLevel: [...topLevel].sort(slowestFirst).slice(0, top),
    slowest: [...modules].sort(slowestFirst).slice(0, top),
    byDistribution: groupByDistribution(records, options.owner),
  };
}

function groupByDistribution(records: readonly ImportTimeRecord[], owner: ModuleOwner): DistributionImportTime[] {
  const groups = new Map<string, { us: number; modules: number; entry: string; entryUs: number }>();
  for (const r of records) {
    const name = owner(moduleRoot(r.module));
    const g = groups.get(name) ?? { us: 0, modules: 0, entry: r.module, entryUs: -1 };
    g.us += r.selfUs;
    g.modules++;
    if (r.cumulativeUs > g.entryUs) Object.assign(g, { entry: r.module, entryUs: r.cumulativeUs });
    groups.set(name, g);
  }
  return [...groups.entries()]
    .map(([distribution, g]) => ({
      distribution,
      ms: ms(g.us),
      modules: g.modules,
      entry: g.entry,
      entryCumulativeMs: ms(g.entryUs),
    }))
    .sort((a, b) => b.ms - a.ms || a.distribution.localeCompare(b.distribution));
}

/** Owner label for modules of the Python standard library (including built-in and frozen modules). */
export const STDLIB_OWNER = '(stdlib)';
/** Owner label for modules found in no distribution and not in the standard library: the image's own code. */
export const APPLICATION_OWNER = '(application)';

// CPython 3.11's `sys.builtin_module_names` plus its frozen modules: they have no file to find in the image.
const BUILTIN_MODULES = new Set(
  (
    '_abc _ast _codecs _collections _functools _imp _io _locale _operator _signal _sre _stat _string _symtable ' +
    '_thread _tokenize _tracemalloc _warnings _weakref atexit builtins errno faulthandler gc itertools marshal posix ' +
    'pwd sys time xxsubtype _frozen_importlib _frozen_importlib_external zipimport'
  ).split(' '),
);

/**
 * A `ModuleOwner` from known import names: distributions' top-level names first, then the standard library's names
 * (those found in the image's `lib/pythonX.Y`, plus the built-in and frozen ones), else `(application)`.
 */
export function moduleOwner(
  distributions: ReadonlyMap<string, string>,
  stdlib: ReadonlySet<string> = new Set(),
): ModuleOwner {
  return (root) =>
    distributions.get(root) ?? (stdlib.has(root) || BUILTIN_MODULES.has(root) ? STDLIB_OWNER : APPLICATION_OWNER);
}

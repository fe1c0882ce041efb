/**
 * Known fixes: for a contributor to an image's size or start-up (a Python distribution, a Debian package, a path, an
 * import), the rule or change that would remove or shrink it, when we know one. A small table, pure; each entry says
 * what it matched, so the message names both the cause and the fix.
 */

/** Something that makes an image big or slow to start, as the fixes see it. */
export type Contributor =
  | {
      kind: 'python';
      name: string;
      sizeBytes: number;
      /** Biggest paths, relative to the distribution's location (`botocore/data`). */
      topPaths: readonly { path: string; sizeBytes: number }[];
    }
  | { kind: 'debian'; name: string; sizeBytes: number }
  | { kind: 'path'; path: string; sizeBytes: number }
  | { kind: 'import'; distribution: string; ms: number; entry: string };

/** Facts about the whole image some fixes need. */
export interface FixContext {
  /** Service models under botocore/data. */
  botocoreServices?: number;
  /** `.py` files in site-packages without bytecode. */
  sourcesWithoutBytecode?: number;
}

export interface KnownFix {
  id: string;
  /** The advice for this contributor (`<what was found>: <what to do>`), or undefined when the fix does not apply. */
  advise(c: Contributor, context: FixContext): string | undefined;
}

const BUILD_TOOLS = new Set(['pip', 'setuptools', 'wheel', 'pygments']);
const DEBIAN_BUILD = /^(gcc|g\+\+|cpp|make|build-essential|git|cmake|.*-dev)(-\d+(\.\d+)?)?$/;
const TESTS = /(^|\/)(tests?|testing)$/;
const hasPath = (c: Contributor, re: RegExp) =>
  c.kind === 'python' ? c.topPaths.find((p) => re.test(p.path)) : undefined;

/** The table, most specific first; the first fix that applies to a contributor is the one shown. */
export const KNOWN_FIXES: readonly KnownFix[] = [
  {
    id: 'botocore-services',
    advise: (c, ctx) =>
      c.kind === 'python' && c.name.toLowerCase() === 'botocore' && (ctx.botocoreServices ?? 0) > 20
        ? `botocore data for ${ctx.botocoreServices} services: set \`optimizer.aws.services\` to the services the code calls`
        : undefined,
  },
  {
    id: 'build-tools-python',
    advise: (c) =>
      c.kind === 'python' && BUILD_TOOLS.has(c.name.toLowerCase())
        ? `${c.name} is a build tool, not needed at run time: optimizer \`remove\` (the default removes pip, setuptools, wheel, pygments)`
        : undefined,
  },
  {
    id: 'tests',
    advise: (c) => {
      const p = hasPath(c, TESTS);
      return p ? `${p.path}/ holds tests: the optimizer strips tests (\`strip.tests\`)` : undefined;
    },
  },
  {
    id: 'build-tools-debian',
    advise: (c) =>
      c.kind === 'debian' && DEBIAN_BUILD.test(c.name)
        ? `${c.name} is a build dependency: install it in a builder stage and copy only what it produced`
        : undefined,
  },
  ...pathFixes(),
  ...importFixes(),
];

function pathFixes(): KnownFix[] {
  const rule = (id: string, re: RegExp, what: string, fix: string): KnownFix => ({
    id,
    advise: (c) => (c.kind === 'path' && re.test(c.path) ? `${what}: ${fix}` : undefined),
  });
  return [
    rule('apt-lists', /^\/var\/lib\/apt\/lists$/, 'apt package lists', '`rm -rf /var/lib/apt/lists/*` in the same RUN'),
    rule('pip-cache', /\/\.cache\/pip$/, 'the pip cache', '`pip install --no-cache-dir` (or `PIP_NO_CACHE_DIR=1`)'),
    rule(
      'debian-docs',
      /^\/usr\/share\/(doc|man|info)$/,
      'documentation',
      'exclude it with a `path-exclude` in /etc/dpkg/dpkg.cfg.d/ before apt-get install',
    ),
  ];
}

function importFixes(): KnownFix[] {
  return [
    {
      id: 'pkg-resources',
      advise: (c) =>
        c.kind === 'import' && c.entry.startsWith('pkg_resources')
          ? 'pkg_resources scans every distribution at import: use importlib.metadata, and optimizer `remove` setuptools'
          : undefined,
    },
    {
      id: 'bytecode',
      advise: (c, ctx) =>
        c.kind === 'import' && !c.distribution.startsWith('(') && (ctx.sourcesWithoutBytecode ?? 0) > 0
          ? `${ctx.sourcesWithoutBytecode} .py files have no bytecode and compile at every start: byte-compile at build time (\`python -m compileall --invalidation-mode unchecked-hash\`)`
          : undefined,
    },
  ];
}

/** The first known fix for a contributor, or undefined. */
export function knownFix(c: Contributor, context: FixContext = {}): { id: string; advice: string } | undefined {
  for (const fix of KNOWN_FIXES) {
    const advice = fix.advise(c, context);
    if (advice) return { id: fix.id, advice };
  }
  return undefined;
}

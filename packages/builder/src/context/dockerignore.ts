import dockerignore from '@balena/dockerignore';

/** A compiled `.dockerignore`: `excludes(path)` says whether the Docker CLI would leave `path` out of the context. */
export interface DockerignoreMatcher {
  /** The patterns as written (comments and blank lines removed), in file order. */
  readonly patterns: readonly string[];
  /** `path` is relative to the context root, with `/` separators. */
  excludes(path: string): boolean;
}

/**
 * Parses `.dockerignore` text into patterns the way moby's `dockerignore.ReadAll` does: one pattern per line,
 * `#` comments (only in the first column), surrounding whitespace trimmed, blank lines ignored.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith('#')) continue; // only a `#` in the first column starts a comment
    const line = raw.trim();
    if (line === '') continue;
    patterns.push(line);
  }
  return patterns;
}

/**
 * Compiles patterns with `@balena/dockerignore`, a port of moby's fileutils/patternmatcher (negations with `!`,
 * `**`, a matched directory excludes everything below it unless re-included, leading `/` ignored, `filepath.Clean`).
 * Matching is case-sensitive, like the Docker CLI on Linux (the library's default is case-insensitive).
 */
export function createDockerignoreMatcher(patterns: readonly string[]): DockerignoreMatcher {
  // The package is CommonJS (`module.exports = factory; factory.default = factory`); NodeNext types it as a namespace.
  const matcher = dockerignore.default({ ignorecase: false }).add([...patterns]);
  return {
    patterns,
    excludes: (path) => matcher.ignores(path),
  };
}

/** One problem found in a profile, with the dotted path of the offending field. */
export interface ProfileIssue {
  path: string;
  message: string;
}

/** Base class of every error thrown by `@4pass/optimizer`. */
export class OptimizerError extends Error {
  override readonly name: string = 'OptimizerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The profile is invalid; `issues` lists every problem at once. */
export class ProfileError extends OptimizerError {
  override readonly name = 'ProfileError' as const;
  readonly issues: ProfileIssue[];
  constructor(issues: ProfileIssue[], options?: { cause?: unknown }) {
    super(
      `Invalid optimizer profile:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
      options,
    );
    this.issues = issues;
  }
}

/** The input (directory or tar) does not contain a Python site-packages tree. */
export class NotSitePackagesError extends OptimizerError {
  override readonly name = 'NotSitePackagesError' as const;
  readonly input: string;
  constructor(input: string, detail: string) {
    super(`${input} is not a Python site-packages tree or virtual environment: ${detail}`);
    this.input = input;
  }
}

/** The tar stream has no entries. */
export class EmptyTarError extends OptimizerError {
  override readonly name = 'EmptyTarError' as const;
  constructor() {
    super(
      'The input tar stream is empty (no entries): expected an archive of a site-packages tree or virtual environment',
    );
  }
}

/** The tar stream could not be read. */
export class InvalidTarError extends OptimizerError {
  override readonly name = 'InvalidTarError' as const;
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`The input is not a readable tar stream: ${detail}`, options);
  }
}

/**
 * The directory is a system directory, not a Python environment: the root of the running system, a Python
 * installation prefix (`/usr`, `/usr/local`), a home directory or another top-level system directory. Refused unless
 * `allowSystem` (`--allow-system`) is given; nothing was read below it or changed.
 */
export class SystemDirectoryError extends OptimizerError {
  override readonly name = 'SystemDirectoryError' as const;
  readonly dir: string;
  /** What the directory was found to be, e.g. `a Python installation prefix (lib/python3.11/os.py)`. */
  readonly found: string;
  constructor(dir: string, found: string) {
    super(
      `${dir} is ${found}, not a virtual environment, a site-packages directory or an image layer's root; ` +
        'point at the environment itself (its root with pyvenv.cfg, or its site-packages), or pass --allow-system ' +
        '(allowSystem) to slim it anyway. Nothing was changed.',
    );
    this.dir = dir;
    this.found = found;
  }
}

/** A path of the tree cannot be read, or cannot be changed as the plan needs; nothing was changed. */
export class TreeAccessError extends OptimizerError {
  override readonly name = 'TreeAccessError' as const;
  /** The path (absolute) that failed. */
  readonly path: string;
  /** The errno code (`EACCES`, `EPERM`, …). */
  readonly code: string;
  constructor(path: string, code: string, doing: string, hint: string, options?: { cause?: unknown }) {
    super(`cannot ${doing} ${path} (${code}): ${hint}. Nothing was changed.`, options);
    this.path = path;
    this.code = code;
  }
}

/** A file name in the tree is not valid UTF-8, so it cannot be named safely; nothing was changed. */
export class UnsupportedNameError extends OptimizerError {
  override readonly name = 'UnsupportedNameError' as const;
  /** The path, invalid bytes written as `\xNN`. */
  readonly path: string;
  constructor(path: string) {
    super(`${path}: the file name is not valid UTF-8; rename or remove it, then run again. Nothing was changed.`);
    this.path = path;
  }
}

/** A metadata file the plan reads is broken (not JSON, not gzip); nothing was changed. */
export class MetadataError extends OptimizerError {
  override readonly name = 'MetadataError' as const;
  /** The file, relative to the input (or the archive member). */
  readonly path: string;
  constructor(path: string, detail: string, hint: string, options?: { cause?: unknown }) {
    super(`${path}: ${detail}; ${hint}. Nothing was changed.`, options);
    this.path = path;
  }
}

/** A file or archive member is larger than the optimizer reads, or decompresses to more; nothing was changed. */
export class SizeLimitError extends OptimizerError {
  override readonly name = 'SizeLimitError' as const;
  /** The file or member, relative to the input. */
  readonly path: string;
  /** The limit in bytes. */
  readonly limit: number;
  /** What the limit bounds: the bytes read, or what they decompress to. */
  readonly what: 'read' | 'decompressed';
  constructor(path: string, limit: number, what: 'read' | 'decompressed') {
    const mib = `${limit / (1 << 20)} MiB`;
    super(
      what === 'read'
        ? `${path} is larger than ${mib}, more than the optimizer reads for it; it is not what it is named ` +
            '(remove or reinstall it). Nothing was changed.'
        : `${path} decompresses to more than ${mib}; it is not a real model file (remove or reinstall it). ` +
            'Nothing was changed.',
    );
    this.path = path;
    this.limit = limit;
    this.what = what;
  }
}

/**
 * A tar member would land outside the archive's root: an absolute name, a `..` segment, a path through a symlink
 * member, or a link pointing out. Nothing was written; `dropUnsafeMembers` drops such members and reports them.
 */
export class UnsafeMemberError extends OptimizerError {
  override readonly name = 'UnsafeMemberError' as const;
  /** The member's name as the archive has it. */
  readonly member: string;
  /** Why it is unsafe (`an absolute name`, `a '..' in its name`, …). */
  readonly reason: string;
  constructor(member: string, reason: string) {
    super(
      `the input tar stream has an unsafe member '${member}': ${reason}. Nothing was written ` +
        '(dropUnsafeMembers drops such members and reports them).',
    );
    this.member = member;
    this.reason = reason;
  }
}

/**
 * A change failed part-way through applying the plan. The changes made so far are safe to keep: they were ordered so
 * that running the optimizer again finishes the job (dist-info directories go last).
 */
export class ApplyError extends OptimizerError {
  override readonly name = 'ApplyError' as const;
  /** The path (absolute) that failed. */
  readonly path: string;
  /** The errno code (`EPERM`, `EACCES`, `EIO`, …). */
  readonly code: string;
  /** Changes made before the failure. */
  readonly done: number;
  /** Changes the plan has. */
  readonly total: number;
  constructor(path: string, code: string, doing: string, done: number, total: number, options?: { cause?: unknown }) {
    super(
      `cannot ${doing} ${path} (${code}) after ${done} of ${total} changes; make it changeable by this user ` +
        '(permissions, ownership, chattr -i, a read-only mount) and run the optimizer again: it finishes what this ' +
        'run began.',
      options,
    );
    this.path = path;
    this.code = code;
    this.done = done;
    this.total = total;
  }
}

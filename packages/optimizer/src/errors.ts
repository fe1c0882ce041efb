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

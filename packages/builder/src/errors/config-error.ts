import { FourpassError } from './fourpass-error.js';

/** A configuration file or option is invalid. `issues` lists every problem with its path. */
export class ConfigError extends FourpassError {
  override readonly name = 'ConfigError' as const;
  constructor(
    readonly file: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(`invalid config ${file}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

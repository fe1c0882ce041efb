import { FourpassError } from '../errors/fourpass-error.js';
import { describeSecretPattern, type SecretPattern } from './scan-secrets.js';

/** A build arg that looks like a credential; never carries the value. */
export interface SecretBuildArg {
  name: string;
  pattern: SecretPattern;
}

/** The advice every refusal gives. */
export const SECRETS_ADVICE =
  'pass credentials as build secrets instead ("secrets" in images.config.json, from an environment variable or a ' +
  'file, mounted with RUN --mount=type=secret,id=…), or allow a build arg explicitly ("allowSecretBuildArgs") to ' +
  'have its value redacted from every output (the image history still records it)';

/** Build args that look like credentials were given without being allowed; nothing was built. */
export class SecretBuildArgError extends FourpassError {
  override readonly name = 'SecretBuildArgError' as const;
  constructor(readonly args: readonly SecretBuildArg[]) {
    const list = args.map((a) => `${a.name} (${describeSecretPattern(a.pattern)})`).join(', ');
    super(
      `build arg${args.length === 1 ? '' : 's'} ${list} look${args.length === 1 ? 's' : ''} like a credential: ${SECRETS_ADVICE}`,
    );
  }
}

/** A secret's file exists but cannot be read. */
export class BuildSecretError extends FourpassError {
  override readonly name = 'BuildSecretError' as const;
  constructor(
    readonly id: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(
      `build secret "${id}": cannot read ${file}: ${(options?.cause as Error | undefined)?.message ?? ''}`,
      options,
    );
  }
}

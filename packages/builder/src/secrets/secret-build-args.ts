import { SecretBuildArgError, type SecretBuildArg } from './secret-errors.js';
import { classifySecret } from './scan-secrets.js';

/**
 * Build args are no place for credentials: BuildKit shows ARG values in its step names (`RUN echo $TOKEN` is named
 * `RUN echo <value>`) and the image history records every build arg a RUN saw. Credentials are build secrets
 * (`RUN --mount=type=secret`). A build arg is taken for a credential when its name says so (TOKEN, PASSWORD, SECRET,
 * KEY, CREDENTIALS, …) or its value carries one (a URL with a password, a key); one with an empty value is not.
 */

/** `KEY`, `SIGNING_KEY`, `KEYS`: a word `KEY` on its own, which the image scan's name rule leaves to context. */
const KEY_WORD = /(?:^|[_.-])KEYS?(?:$|[_.-])/i;

/** The build args of `buildArgs` that look like credentials, in name order. */
export function findSecretBuildArgs(buildArgs: Readonly<Record<string, string>>): SecretBuildArg[] {
  return Object.entries(buildArgs)
    .flatMap(([name, value]): SecretBuildArg[] => {
      const pattern = classifySecret(name, value) ?? (value !== '' && KEY_WORD.test(name) ? 'secret-name' : undefined);
      return pattern ? [{ name, pattern }] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Checks `buildArgs` against the allowed names: throws for credential-looking ones not allowed, returns the values of
 * the allowed ones (to be redacted).
 * @throws {SecretBuildArgError} naming every refused build arg (never its value).
 */
export function checkSecretBuildArgs(
  buildArgs: Readonly<Record<string, string>>,
  allowed: readonly string[] = [],
): string[] {
  const found = findSecretBuildArgs(buildArgs);
  const refused = found.filter((a) => !allowed.includes(a.name));
  if (refused.length) throw new SecretBuildArgError(refused);
  return found.map((a) => buildArgs[a.name] ?? '');
}

import { FourpassError } from '../errors/fourpass-error.js';

/**
 * Registry settings that cannot work for a push — no registry configured, no AWS region for ECR — found before
 * anything is built. The message names the fix.
 */
export class RegistrySettingsError extends FourpassError {
  override readonly name = 'RegistrySettingsError' as const;
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** `only` (`--only`) names an image the config does not have. */
export class UnknownImageError extends FourpassError {
  override readonly name = 'UnknownImageError' as const;
  constructor(
    readonly unknown: readonly string[],
    readonly configured: readonly string[],
  ) {
    super(`unknown image ${unknown.map((n) => `"${n}"`).join(', ')} (configured: ${configured.join(', ')})`);
  }
}

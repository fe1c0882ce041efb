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

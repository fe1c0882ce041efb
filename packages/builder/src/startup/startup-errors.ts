import { FourpassError } from '../errors/fourpass-error.js';

/** The image to measure does not exist, or cannot be measured as configured (e.g. no HEALTHCHECK to wait for). */
export class StartupSetupError extends FourpassError {
  override readonly name = 'StartupSetupError' as const;
  constructor(
    message: string,
    readonly image: string,
  ) {
    super(message);
  }
}

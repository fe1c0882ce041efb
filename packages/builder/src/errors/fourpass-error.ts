/**
 * Typed errors of @4pass/builder. Every error has a literal `name`, structured fields and, where there is one, the
 * underlying `cause`. Messages never contain credentials.
 */
export class FourpassError extends Error {
  override readonly name: string = 'FourpassError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { FourpassError } from '../errors/fourpass-error.js';
import type { CycloneDxBom } from './image-sbom.js';

/** An SBOM that does not validate against the CycloneDX 1.6 JSON schema (a bug: nothing invalid is written). */
export class SbomValidationError extends FourpassError {
  override readonly name = 'SbomValidationError' as const;
  constructor(
    /** What the document describes (the image's name). */
    readonly subject: string,
    /** The schema's complaints, `<path>: <message>`. */
    readonly problems: string[],
  ) {
    super(`the SBOM of ${subject} is not valid CycloneDX 1.6: ${problems.slice(0, 3).join('; ')}`);
  }
}

// Compiling the schema takes most of a second: once per process, and only when something is validated.
let validator: Validation.JsonStrictValidator | undefined;

/**
 * Validates a document against the CycloneDX 1.6 JSON schema (strict: no properties the schema does not define).
 * @throws {SbomValidationError} when it does not validate, naming each problem's place in the document.
 */
export async function validateSbom(bom: CycloneDxBom, subject = 'the image'): Promise<void> {
  validator ??= new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  const errors = (await validator.validate(JSON.stringify(bom))) as
    null | { instancePath?: string; message?: string }[] | unknown;
  if (errors === null) return;
  const problems = Array.isArray(errors)
    ? errors.map(
        (e: { instancePath?: string; message?: string }) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`,
      )
    : [String(errors)];
  throw new SbomValidationError(subject, problems);
}

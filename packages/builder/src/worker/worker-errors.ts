import { FourpassError } from '../errors/fourpass-error.js';

/** A kept-service check failed: the worker's code calls a service the profile trims away. */
export class ServiceUsageError extends FourpassError {
  override readonly name = 'ServiceUsageError' as const;
  constructor(readonly violations: readonly { service: string; file: string; line: number }[]) {
    super(
      `the worker calls AWS services that the optimizer profile removes:\n` +
        violations
          .map((v) => `  - ${v.file}:${v.line}: boto3 client "${v.service}" (add it to optimizer aws.services)`)
          .join('\n'),
    );
  }
}

/** The optimizer's smoke program failed inside the built image. */
export class SmokeTestError extends FourpassError {
  override readonly name = 'SmokeTestError' as const;
  constructor(
    readonly image: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(`smoke test failed in ${image} (exit ${exitCode}):\n${output.trim().split('\n').slice(-30).join('\n')}`);
  }
}

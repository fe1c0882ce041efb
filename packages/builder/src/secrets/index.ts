export * from './scan-secrets.js';
export { SecretSet } from './secret-set.js';
export {
  checkSecretBuildArgs,
  findSecretBuildArgs,
  SecretBuildArgError,
  SECRETS_ADVICE,
  type SecretBuildArg,
} from './secret-build-args.js';
export {
  BuildSecretError,
  describeSecretSource,
  loadBuildSecrets,
  type BuildSecretSource,
  type LoadedBuildSecrets,
} from './load-build-secrets.js';

export * from './scan-secrets.js';
export { SecretSet } from './secret-set.js';

export * from './check.js';
export * from './scan-secrets.js';
export * from './check-structure.js';
export * from './evaluate-budgets.js';

export * from './check.js';
export * from './check-structure.js';
export * from './evaluate-budgets.js';

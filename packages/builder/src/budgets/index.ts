export * from './check.js';
export * from './check-structure.js';
export * from './evaluate-budgets.js';
export * from './known-fixes.js';
export * from './explain-budget.js';

export * from './parse-units.js';
export * from './format-units.js';

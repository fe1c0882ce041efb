export * from './startup-result.js';

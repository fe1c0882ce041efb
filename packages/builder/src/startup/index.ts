export * from './startup-result.js';
export * from './measure-startup.js';
export * from './import-profile.js';

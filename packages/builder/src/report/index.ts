export * from './gate-report.js';
export * from './evaluate-image.js';
export * from './diff-reports.js';
export * from './load-report.js';
export * from './render-text.js';
export * from './render-markdown.js';
export * from './render-junit.js';

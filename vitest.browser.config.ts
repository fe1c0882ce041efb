import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

/**
 * Browser tests open the HTML report in the system's Chromium (headless, offline). They never skip: a missing
 * browser fails them with what to install.
 */
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

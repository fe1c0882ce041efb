import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

/**
 * Engine tests talk to a real Docker engine (and a real registry they start themselves).
 * They never skip: test/engine/global-setup.ts fails the whole run when no engine answers.
 */
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/engine/**/*.engine.test.ts'],
    globalSetup: ['test/engine/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
  },
});

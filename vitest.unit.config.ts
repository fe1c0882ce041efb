import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
  },
});

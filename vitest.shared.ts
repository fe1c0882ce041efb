import { fileURLToPath } from 'node:url';

/** Tests import the packages from source, so `pnpm test:unit` needs no build. */
export const alias = {
  '@4pass/builder/config': fileURLToPath(new URL('./packages/builder/src/config/index.ts', import.meta.url)),
  '@4pass/builder/internal': fileURLToPath(new URL('./packages/builder/src/internal.ts', import.meta.url)),
  '@4pass/builder': fileURLToPath(new URL('./packages/builder/src/index.ts', import.meta.url)),
  '@4pass/optimizer': fileURLToPath(new URL('./packages/optimizer/src/index.ts', import.meta.url)),
};

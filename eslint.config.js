import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'examples/**', 'test/fixtures/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['scripts/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: {
      globals: {
        ...globals.node,
        argv: 'readonly',
        $: 'readonly',
        fs: 'readonly',
        path: 'readonly',
        chalk: 'readonly',
        echo: 'readonly',
      },
    },
  },
  {
    // No import cycles between our modules. The rule skips type-only imports (erased at run time); keep those acyclic too.
    files: ['packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['packages/optimizer/tsconfig.json', 'packages/builder/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The public API is chosen name by name in each entry (reported in packages/*/api/*.api.md): no `export *`.
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'Export names explicitly; the public API is chosen, not chained.',
        },
      ],
    },
  },
  {
    // dockerode and the AWS SDK each enter the code base through exactly one adapter file.
    files: ['packages/**/*.ts'],
    ignores: ['packages/builder/src/engine/docker-engine.ts', 'packages/builder/src/push/ecr-client.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['dockerode', '@aws-sdk/*'],
              message: 'Import dockerode only in engine/docker-engine.ts and the AWS SDK only in push/ecr-client.ts.',
            },
          ],
        },
      ],
    },
  },
);

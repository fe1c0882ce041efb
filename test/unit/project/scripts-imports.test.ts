import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as config from '@4pass/builder/config';
import * as internal from '@4pass/builder/internal';
import * as optimizer from '@4pass/optimizer';
import * as builder from '@4pass/builder';

/**
 * The zx scripts are not type-checked: every name they import from the packages (statically, or with
 * `const { … } = await import(…)`) must be exported by that entry, or the CLI breaks only when it runs.
 */
const SCRIPTS = fileURLToPath(new URL('../../../scripts/', import.meta.url));
const ENTRIES: Record<string, object> = {
  '@4pass/builder': builder,
  '@4pass/builder/config': config,
  '@4pass/builder/internal': internal,
  '@4pass/optimizer': optimizer,
};
const IMPORTS = [
  /import \{([^}]*)\} from '(@4pass\/[^']+)'/g,
  /const \{([^}]*)\} = await import\('(@4pass\/[^']+)'\)/g,
];

function importedNames(text: string): { entry: string; name: string }[] {
  return IMPORTS.flatMap((pattern) =>
    [...text.matchAll(pattern)].flatMap(([, list = '', entry = '']) =>
      list
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part && !part.startsWith('type '))
        .map((part) => ({ entry, name: part.split(/\s+as\s+|:/)[0]?.trim() ?? '' })),
    ),
  );
}

describe('scripts/*.mjs', () => {
  const files = readdirSync(SCRIPTS).filter((f) => f.endsWith('.mjs'));

  it.each(files)('%s imports only names the packages export', (file) => {
    const missing = importedNames(readFileSync(`${SCRIPTS}${file}`, 'utf8')).filter(
      ({ entry, name }) => !(name in (ENTRIES[entry] ?? {})),
    );
    expect(missing).toEqual([]);
  });

  it('reads the CLI imports (the check above has something to check)', () => {
    const names = importedNames(readFileSync(`${SCRIPTS}build-images.mjs`, 'utf8')).map((i) => i.name);
    expect(names).toContain('runImages');
    expect(names).toContain('loadConfig');
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildImage } from '@4pass/builder';
import { createPlainRenderer } from '../../../packages/builder/src/render/plain-renderer.js';
import type { BuildEvent } from '@4pass/builder';
import { recorded, replayEngine } from '../buildkit/replay-engine.js';

const context = (name: string): string => fileURLToPath(new URL(`../../fixtures/contexts/${name}`, import.meta.url));
const golden = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/engine/${name}.plain.txt`, import.meta.url));

async function render(
  fixture: string,
  contextName: string,
): Promise<{ output: string; events: BuildEvent[]; error: unknown }> {
  let output = '';
  const events: BuildEvent[] = [];
  const renderer = createPlainRenderer((s) => (output += s));
  const engine = replayEngine(recorded(fixture), { images: ['4pass-local/python:3.11-slim'] });
  let error: unknown;
  await buildImage({
    engine,
    contextDir: context(contextName),
    onEvent: (e) => {
      events.push(e);
      renderer(e);
    },
  }).catch((e: unknown) => (error = e));
  return { output, events, error };
}

function expectGolden(name: string, output: string): void {
  const file = golden(name);
  if (!existsSync(file) || process.env.UPDATE_GOLDEN === '1') writeFileSync(file, output);
  expect(output).toBe(readFileSync(file, 'utf8'));
}

describe('plain renderer on recorded engine output', () => {
  for (const [fixture, ctx] of [
    ['success-multistage', 'multistage'],
    ['cached-rebuild', 'multistage'],
    ['failing-run', 'failing-run'],
    ['parse-error', 'parse-error'],
  ] as const) {
    it(`renders ${fixture} like docker build --progress=plain`, async () => {
      const { output } = await render(fixture, ctx);
      expectGolden(fixture, output);
    });
  }
});

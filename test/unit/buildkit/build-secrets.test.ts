import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuildError, SecretBuildArgError, buildImage, type BuildEvent } from '@4pass/builder';
import { replayEngine } from './replay-engine.js';

const context = (name: string): string => fileURLToPath(new URL(`../../fixtures/contexts/${name}`, import.meta.url));
const LOCAL = '4pass-local/python:3.11-slim';
const TOKEN = 'ghp_redact-me-0123456789';
const SECRET = 'secret-value-9876543210';

describe('buildImage: credentials in build args and build output', () => {
  it('refuses a credential-looking build arg before anything reaches the engine', async () => {
    const engine = replayEngine([], { images: [LOCAL] });
    const error = await buildImage({
      engine,
      contextDir: context('multistage'),
      buildArgs: { GITHUB_TOKEN: TOKEN },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretBuildArgError);
    expect((error as Error).message).not.toContain(TOKEN);
    expect(engine.requests).toHaveLength(0);
  });

  it('redacts allowed build args and build secrets from every event and from the error', async () => {
    const engine = replayEngine(
      [
        { stream: `Step output with ${TOKEN} and ${SECRET}\n` },
        { errorDetail: { message: `executor failed running [/bin/sh -c echo ${TOKEN}]: exit code: 3` } },
      ],
      { images: [LOCAL] },
    );
    const events: BuildEvent[] = [];
    const error = await buildImage({
      engine,
      contextDir: context('multistage'),
      buildArgs: { GITHUB_TOKEN: TOKEN },
      allowSecretBuildArgs: ['GITHUB_TOKEN'],
      secrets: { tok: Buffer.from(`${SECRET}\n`) },
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(engine.requests[0]?.buildArgs?.GITHUB_TOKEN).toBe(TOKEN); // the engine still gets it
    expect(error).toBeInstanceOf(BuildError);
    const seen = `${JSON.stringify(events)}\n${(error as Error).message}\n${JSON.stringify(error)}`;
    expect(seen).toContain('Step output with *** and ***');
    expect(seen).toContain('echo ***');
    expect(seen).not.toContain(TOKEN);
    expect(seen).not.toContain(SECRET);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@4pass/builder';

const image = (extra: Record<string, unknown> = {}) => ({
  name: 'api',
  dockerfile: 'dockerfiles/api.Dockerfile',
  context: 'examples',
  ...extra,
});

function configError(input: unknown): ConfigError {
  try {
    parseConfig(input, '/repo/images.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config: build secrets', () => {
  it('takes secrets from a variable or a file (resolved against the config directory)', () => {
    const config = parseConfig(
      { secrets: { npm_token: { env: 'NPM_TOKEN' }, pip_index_url: { file: 'secrets/pip' } }, images: [image()] },
      '/repo/images.config.json',
    );
    expect(config.secrets).toEqual({ npm_token: { env: 'NPM_TOKEN' }, pip_index_url: { file: '/repo/secrets/pip' } });
    expect(parseConfig({ images: [image()] }, '/repo/images.config.json').secrets).toEqual({});
  });

  it('reports a source that is neither or both, and a bad id, with their paths', () => {
    const error = configError({
      secrets: { a: { env: 'A', file: 'x' }, b: {}, 'bad id': { env: 'B' } },
      images: [image()],
    });
    const paths = error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['secrets.a', 'secrets.b']));
    expect(error.message).toMatch(/give exactly one of \{ "env": "NAME" \} or \{ "file": "path" \}/);
    expect(error.message).toMatch(/is not a secret id/);
  });

  it('refuses credential-looking build args, every one with its path and no value, unless allowed', () => {
    const error = configError({
      images: [
        image({ buildArgs: { GITHUB_TOKEN: 'ghp_abcdef', PIP_INDEX_URL: 'https://u:pw-xyz@idx/simple', PORT: '80' } }),
      ],
    });
    expect(error.issues.map((i) => i.path)).toEqual([
      'images[0].buildArgs.GITHUB_TOKEN',
      'images[0].buildArgs.PIP_INDEX_URL',
    ]);
    expect(error.message).toContain('"secrets" in images.config.json');
    expect(error.message).not.toMatch(/ghp_abcdef|pw-xyz/);
    const allowed = parseConfig(
      { images: [image({ buildArgs: { GITHUB_TOKEN: 'ghp_abcdef' }, allowSecretBuildArgs: ['GITHUB_TOKEN'] })] },
      '/repo/images.config.json',
    );
    expect(allowed.images[0]?.allowSecretBuildArgs).toEqual(['GITHUB_TOKEN']);
  });
});

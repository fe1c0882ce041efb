import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBuildArgError } from '@4pass/builder';
import { checkSecretBuildArgs, findSecretBuildArgs } from '../../../packages/builder/src/secrets/secret-build-args.js';
import { loadBuildSecrets } from '../../../packages/builder/src/secrets/load-build-secrets.js';
import { SecretSet } from '../../../packages/builder/src/secrets/secret-set.js';
import { findSecretMounts } from '../../../packages/builder/src/buildkit/secret-mounts.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('credential-looking build args', () => {
  it('are found by name (TOKEN, PASSWORD, SECRET, KEY…) or by value (a URL with a password), never empty ones', () => {
    const found = findSecretBuildArgs({
      GITHUB_TOKEN: 'ghp_x',
      DB_PASSWORD: 'pw',
      SIGNING_KEY: 'k',
      API_SECRET: 's',
      PIP_INDEX_URL: 'https://__token__:pypi-abc@pypi.example.com/simple',
      PYTHON_IMAGE: 'python:3.11-slim',
      NODE_ENV: 'production',
      EMPTY_TOKEN: '',
      MONKEY: 'banana',
    });
    expect(found.map((f) => f.name)).toEqual([
      'API_SECRET',
      'DB_PASSWORD',
      'GITHUB_TOKEN',
      'PIP_INDEX_URL',
      'SIGNING_KEY',
    ]);
    expect(found.find((f) => f.name === 'PIP_INDEX_URL')?.pattern).toBe('url-credentials');
  });

  it('are refused with a message pointing to secrets, naming every one and no value', () => {
    const error = (() => {
      try {
        checkSecretBuildArgs({ GITHUB_TOKEN: 'ghp_value1', DB_PASSWORD: 'pw-value2', PORT: '80' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SecretBuildArgError);
    const message = (error as Error).message;
    expect(message).toMatch(/^build args DB_PASSWORD \(a secret-named variable with a value\), GITHUB_TOKEN/);
    expect(message).toContain('"secrets" in images.config.json');
    expect(message).toContain('RUN --mount=type=secret');
    expect(message).not.toMatch(/ghp_value1|pw-value2/);
  });

  it('when allowed, are returned for redaction', () => {
    expect(checkSecretBuildArgs({ GITHUB_TOKEN: 'ghp_value1', PORT: '80' }, ['GITHUB_TOKEN'])).toEqual(['ghp_value1']);
  });
});

describe('loadBuildSecrets', () => {
  it('reads variables and files; unset variables and missing files are not given (named by source)', async () => {
    const dir = await mkdtemp(join(tmpdir(), '4pass-secrets-'));
    dirs.push(dir);
    await writeFile(join(dir, 'pip-url'), 'https://u:p@index.example/simple\n');
    const loaded = await loadBuildSecrets(
      {
        npm_token: { env: 'NPM_TOKEN' },
        pip_index_url: { file: join(dir, 'pip-url') },
        absent_env: { env: 'NOT_SET_ANYWHERE' },
        absent_file: { file: join(dir, 'nope') },
      },
      { NPM_TOKEN: 'npm-secret', NOT_SET_ANYWHERE: '' },
    );
    expect(Object.keys(loaded.values).sort()).toEqual(['npm_token', 'pip_index_url']);
    expect(loaded.values.npm_token?.toString()).toBe('npm-secret');
    expect(loaded.missing).toEqual([
      { id: 'absent_env', source: '$NOT_SET_ANYWHERE' },
      { id: 'absent_file', source: join(dir, 'nope') },
    ]);
  });
});

describe('SecretSet.redactDeep', () => {
  it('replaces secret values (and the trimmed form of a value read from a file) in every nested string', () => {
    const secrets = new SecretSet();
    secrets.addValue(Buffer.from('tok-123456\n'));
    const event = { type: 'step-log', name: 'RUN echo tok-123456', lines: ['a tok-123456 b'], n: 3, ok: true };
    expect(secrets.redactDeep(event)).toEqual({
      type: 'step-log',
      name: 'RUN echo ***',
      lines: ['a *** b'],
      n: 3,
      ok: true,
    });
  });
});

describe('findSecretMounts', () => {
  it('reads id, target and required as BuildKit does, across continuation lines', () => {
    const dockerfile = [
      'FROM x AS a',
      'RUN --mount=type=cache,target=/root/.npm \\',
      '    --mount=type=secret,id=npm_token \\',
      '    npm ci',
      'RUN --mount=type=secret,target=/run/secrets/pip_index_url,required=true pip install x',
      'RUN --mount=type=secret,id=opt,required=false true',
      '# RUN --mount=type=secret,id=commented',
    ].join('\n');
    expect(findSecretMounts(dockerfile)).toEqual([
      { id: 'npm_token', required: false, line: 2 },
      { id: 'pip_index_url', required: true, line: 5 },
      { id: 'opt', required: false, line: 6 },
    ]);
  });
});

import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RegistryAuthError, registryAuthFromStdin } from '@4pass/builder';
import {
  createRegistryAuth,
  registryAuthFromEnv,
  toEngineAuth,
} from '../../../packages/builder/src/push/registry-auth.js';

const SECRET = 'env-registry-secret-123';

describe('registry credentials', () => {
  it('reads REGISTRY_USERNAME / REGISTRY_PASSWORD for a host', () => {
    const auth = registryAuthFromEnv('127.0.0.1:5000', { REGISTRY_USERNAME: 'robot', REGISTRY_PASSWORD: SECRET });
    expect(auth).toMatchObject({ serveraddress: '127.0.0.1:5000', username: 'robot', password: SECRET });
    expect(registryAuthFromEnv('h', { REGISTRY_PASSWORD: SECRET })?.username).toBe('AWS');
    expect(registryAuthFromEnv('h', { REGISTRY_USERNAME: 'robot' })).toBeUndefined();
  });

  it('redacts the password when serialised, but hands engines a plain copy', () => {
    const auth = createRegistryAuth({
      username: 'AWS',
      password: SECRET,
      serveraddress: 'h',
      identitytoken: 'idtok-secret',
    });
    const shown = `${JSON.stringify(auth)} ${inspect(auth)} ${inspect([auth], { depth: 4 })} ${JSON.stringify({ auth })}`;
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('idtok-secret');
    expect(JSON.parse(JSON.stringify(auth))).toEqual({
      serveraddress: 'h',
      username: 'AWS',
      password: '***',
      identitytoken: '***',
    });
    const plain = toEngineAuth(auth);
    expect(JSON.parse(JSON.stringify(plain))).toEqual({
      serveraddress: 'h',
      username: 'AWS',
      password: SECRET,
      identitytoken: 'idtok-secret',
    });
  });

  it('RegistryAuthError names registry and user, never a secret', () => {
    const error = new RegistryAuthError('127.0.0.1:5000', 'AWS', 'HTTP 401');
    expect(error.message).toContain('127.0.0.1:5000');
    expect(error.message).toContain('"AWS"');
    expect(error.name).toBe('RegistryAuthError');
  });
});

describe('registryAuthFromStdin', () => {
  it('reads the password up to EOF without the trailing newline', async () => {
    const { Readable } = await import('node:stream');
    const auth = await registryAuthFromStdin('h:5000', {
      stdin: Readable.from([`${SECRET}\n`]),
      env: { REGISTRY_USERNAME: 'robot' },
    });
    expect(auth).toMatchObject({ serveraddress: 'h:5000', username: 'robot', password: SECRET });
    expect(JSON.stringify(auth)).not.toContain(SECRET);
  });
});

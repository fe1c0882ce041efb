import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@4pass/builder';
import { resolveEngineEndpoint } from '../../packages/builder/src/engine/connection.js';

function dockerConfig(current: string | undefined, contexts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), '4pass-dockercfg-'));
  if (current) writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: current }));
  for (const [name, host] of Object.entries(contexts)) {
    const meta = join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(
      join(meta, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
    );
  }
  return dir;
}

describe('resolveEngineEndpoint', () => {
  it('uses the default socket when nothing is set', () => {
    const dir = dockerConfig(undefined, {});
    expect(resolveEngineEndpoint({ env: {}, dockerConfigDir: dir })).toMatchObject({
      address: 'unix:///var/run/docker.sock',
      source: 'default',
    });
  });

  it('prefers DOCKER_HOST over contexts', () => {
    const dir = dockerConfig('remote', { remote: 'tcp://10.0.0.1:2375' });
    expect(resolveEngineEndpoint({ env: { DOCKER_HOST: 'unix:///run/x.sock' }, dockerConfigDir: dir })).toMatchObject({
      socketPath: '/run/x.sock',
      source: 'DOCKER_HOST',
    });
  });

  it('switches tcp to TLS with DOCKER_TLS_VERIFY and reads DOCKER_CERT_PATH', () => {
    const certs = mkdtempSync(join(tmpdir(), '4pass-certs-'));
    writeFileSync(join(certs, 'ca.pem'), 'CA');
    const ep = resolveEngineEndpoint({
      env: { DOCKER_HOST: 'tcp://build.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
    });
    expect(ep).toMatchObject({ protocol: 'https', host: 'build.example', port: '2376' });
    expect(ep.tls?.ca?.toString()).toBe('CA');
  });

  it('parses ssh:// hosts', () => {
    expect(resolveEngineEndpoint({ env: { DOCKER_HOST: 'ssh://deploy@builder:2222' } })).toMatchObject({
      protocol: 'ssh',
      host: 'builder',
      port: '2222',
      username: 'deploy',
    });
  });

  it('follows DOCKER_CONTEXT, then currentContext in config.json', () => {
    const dir = dockerConfig('ctx-a', { 'ctx-a': 'tcp://a.example:2375', 'ctx-b': 'unix:///run/b.sock' });
    expect(resolveEngineEndpoint({ env: {}, dockerConfigDir: dir })).toMatchObject({
      address: 'tcp://a.example:2375',
      protocol: 'http',
    });
    expect(resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'ctx-b' }, dockerConfigDir: dir })).toMatchObject({
      socketPath: '/run/b.sock',
      source: 'DOCKER_CONTEXT=ctx-b',
    });
  });

  it('names a context that does not exist', () => {
    const dir = dockerConfig(undefined, {});
    expect(() => resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'nope' }, dockerConfigDir: dir })).toThrow(ConfigError);
    expect(() => resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'nope' }, dockerConfigDir: dir })).toThrow(
      /Docker context "nope"/,
    );
  });
});

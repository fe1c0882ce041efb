import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EngineTlsError } from '@4pass/builder';
import { resolveEngineEndpoint } from '../../packages/builder/src/engine/connection.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/tls');

function temp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `4pass-${prefix}-`));
}

/** A cert directory holding the named fixture files (`{ 'ca.pem': 'ca.pem', 'key.pem': 'other-key.pem' }`). */
function certDir(files: Record<string, string>): string {
  const dir = temp('certs');
  for (const [name, fixture] of Object.entries(files)) copyFileSync(join(fixtures, fixture), join(dir, name));
  return dir;
}

const ALL = { 'ca.pem': 'ca.pem', 'cert.pem': 'cert.pem', 'key.pem': 'key.pem' };

interface Context {
  host: string;
  skipTlsVerify?: boolean;
  tls?: Record<string, string>;
}

function dockerConfig(current: string | undefined, contexts: Record<string, Context | string>): string {
  const dir = temp('dockercfg');
  if (current) writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: current }));
  for (const [name, value] of Object.entries(contexts)) {
    const context = typeof value === 'string' ? { host: value } : value;
    const id = createHash('sha256').update(name).digest('hex');
    const meta = join(dir, 'contexts', 'meta', id);
    mkdirSync(meta, { recursive: true });
    const docker = { Host: context.host, SkipTLSVerify: context.skipTlsVerify ?? false };
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker } }));
    if (context.tls) {
      const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
      mkdirSync(tlsDir, { recursive: true });
      for (const [file, fixture] of Object.entries(context.tls))
        copyFileSync(join(fixtures, fixture), join(tlsDir, file));
    }
  }
  return dir;
}

function tlsError(run: () => unknown): EngineTlsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineTlsError);
    return error as EngineTlsError;
  }
  throw new Error('expected an EngineTlsError');
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

const env = (certPath: string) => ({
  DOCKER_HOST: 'tcp://build.example',
  DOCKER_TLS_VERIFY: '1',
  DOCKER_CERT_PATH: certPath,
});

describe('TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH', () => {
  it('switches tcp to TLS on port 2376 and reads and checks the three files', () => {
    const dir = certDir(ALL);
    const ep = resolveEngineEndpoint({ env: env(dir) });
    expect(ep).toMatchObject({
      protocol: 'https',
      host: 'build.example',
      port: '2376',
      address: 'tcp://build.example:2376',
    });
    expect(ep.tls?.skipVerify).toBe(false);
    expect(ep.tls?.files).toEqual({ ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') });
    expect(ep.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('names the missing ca.pem, the engine and where the directory came from', () => {
    const dir = certDir({ 'cert.pem': 'cert.pem', 'key.pem': 'key.pem' });
    const error = tlsError(() => resolveEngineEndpoint({ env: env(dir) }));
    expect(error).toMatchObject({ certificate: 'ca', file: join(dir, 'ca.pem'), address: 'tcp://build.example:2376' });
    expect(error.message).toBe(
      `TLS to engine tcp://build.example:2376 (from DOCKER_HOST): CA certificate ${join(dir, 'ca.pem')} is missing ` +
        `(DOCKER_CERT_PATH=${dir})`,
    );
  });

  it('names a certificate directory that does not exist', () => {
    const error = tlsError(() => resolveEngineEndpoint({ env: env('/nonexistent/4pass-certs') }));
    expect(error.message).toContain('certificate directory /nonexistent/4pass-certs (DOCKER_CERT_PATH=');
    expect(error.message).toContain('engine tcp://build.example:2376 (from DOCKER_HOST)');
  });
});

describe('TLS files that are missing, unreadable or do not belong together', () => {
  it('names cert.pem without key.pem, and a key that belongs to another certificate', () => {
    const noKey = certDir({ 'ca.pem': 'ca.pem', 'cert.pem': 'cert.pem' });
    expect(tlsError(() => resolveEngineEndpoint({ env: env(noKey) }))).toMatchObject({
      certificate: 'key',
      file: join(noKey, 'key.pem'),
    });
    const wrongKey = certDir({ 'ca.pem': 'ca.pem', 'cert.pem': 'cert.pem', 'key.pem': 'other-key.pem' });
    const error = tlsError(() => resolveEngineEndpoint({ env: env(wrongKey) }));
    expect(error.message).toContain(
      `the client key ${join(wrongKey, 'key.pem')} does not belong to ${join(wrongKey, 'cert.pem')}`,
    );
  });

  it('names an unreadable file and one that is not PEM', () => {
    const unreadable = certDir({ 'cert.pem': 'cert.pem', 'key.pem': 'key.pem' });
    mkdirSync(join(unreadable, 'ca.pem'));
    expect(tlsError(() => resolveEngineEndpoint({ env: env(unreadable) })).message).toMatch(
      new RegExp(`cannot read the CA certificate ${join(unreadable, 'ca.pem')} \\(DOCKER_CERT_PATH=.*\\): EISDIR`),
    );
    const garbage = certDir(ALL);
    writeFileSync(join(garbage, 'cert.pem'), 'not a certificate');
    expect(tlsError(() => resolveEngineEndpoint({ env: env(garbage) }))).toMatchObject({
      certificate: 'cert',
      message: expect.stringContaining(`the client certificate ${join(garbage, 'cert.pem')} is not valid PEM`),
    });
  });

  it('DOCKER_TLS alone encrypts without verifying; without DOCKER_CERT_PATH missing files in ~/.docker are skipped', () => {
    const home = temp('home');
    const ep = resolveEngineEndpoint({ env: { DOCKER_HOST: 'tcp://10.1.2.3', DOCKER_TLS: '1', HOME: home } });
    expect(ep).toMatchObject({ protocol: 'https', port: '2376', tls: { skipVerify: true, files: {} } });
    expect(resolveEngineEndpoint({ env: { DOCKER_HOST: 'tcp://10.1.2.3', HOME: home } })).toMatchObject({
      protocol: 'http',
      port: '2375',
    });
  });
});

describe('TLS of a docker context', () => {
  it('reads the context TLS files and honours SkipTLSVerify', () => {
    const dir = dockerConfig('secure', {
      secure: { host: 'tcp://127.0.0.1:2376', tls: ALL },
      skip: { host: 'tcp://127.0.0.1:2376', skipTlsVerify: true },
      plain: { host: 'tcp://127.0.0.1:2375' },
    });
    const secure = resolveEngineEndpoint({ env: {}, dockerConfigDir: dir });
    expect(secure).toMatchObject({ protocol: 'https', tls: { skipVerify: false } });
    expect(secure.tls?.files.ca).toMatch(/contexts\/tls\/[0-9a-f]{64}\/docker\/ca\.pem$/);
    const skip = resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'skip' }, dockerConfigDir: dir });
    expect(skip).toMatchObject({ protocol: 'https', tls: { skipVerify: true, files: {} } });
    expect(resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'plain' }, dockerConfigDir: dir })).toMatchObject({
      protocol: 'http',
    });
  });

  it('names the context when its key does not belong to its certificate', () => {
    const dir = dockerConfig('bad', {
      bad: { host: 'tcp://127.0.0.1:2376', tls: { ...ALL, 'key.pem': 'other-key.pem' } },
    });
    const error = tlsError(() => resolveEngineEndpoint({ env: {}, dockerConfigDir: dir }));
    expect(error.source).toBe(`context bad (${join(dir, 'config.json')})`);
    expect(error.certificate).toBe('key');
  });
});

/** A home directory with `.ssh/<name>` files. */
function home(files: Record<string, string>): string {
  const dir = temp('sshhome');
  mkdirSync(join(dir, '.ssh'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, '.ssh', name), content);
  return dir;
}

describe('ssh:// engines', () => {
  it('uses the URL, the local user, the agent and the default keys that exist', () => {
    const dir = home({ id_ed25519: 'key', id_rsa: 'key' });
    const ep = resolveEngineEndpoint({
      env: { DOCKER_HOST: 'ssh://deploy@builder:2222', HOME: dir, USER: 'me', SSH_AUTH_SOCK: '/run/agent.sock' },
    });
    expect(ep).toMatchObject({ protocol: 'ssh', host: 'builder', port: '2222', username: 'deploy' });
    expect(ep.ssh).toEqual({
      host: 'builder',
      port: 2222,
      username: 'deploy',
      agent: '/run/agent.sock',
      identityFiles: [join(dir, '.ssh/id_rsa'), join(dir, '.ssh/id_ed25519')],
      knownHostsFiles: [
        join(dir, '.ssh/known_hosts'),
        join(dir, '.ssh/known_hosts2'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ],
      acceptUnknownHosts: false,
      timeoutMs: 5000,
    });
    expect(resolveEngineEndpoint({ env: { DOCKER_HOST: 'ssh://builder', HOME: dir, USER: 'me' } }).ssh).toMatchObject({
      username: 'me',
      port: 22,
    });
  });

  it('applies ~/.ssh/config: HostName, Port, User, IdentityFile, IdentitiesOnly, known hosts, strictness', () => {
    const dir = home({
      config: [
        'Host builder',
        '  HostName 127.0.0.1',
        '  Port 2200',
        '  IdentityFile ~/.ssh/builder_key',
        '  IdentitiesOnly yes',
        '  UserKnownHostsFile ~/.ssh/builder_hosts',
        '  StrictHostKeyChecking accept-new',
        '  ConnectTimeout 7',
        'Host *',
        '  User ci',
        '',
      ].join('\n'),
      id_ed25519: 'key',
    });
    const ssh = resolveEngineEndpoint({
      env: { DOCKER_HOST: 'ssh://builder', HOME: dir, USER: 'me', SSH_AUTH_SOCK: '/run/agent.sock' },
    }).ssh;
    expect(ssh).toEqual({
      host: '127.0.0.1',
      port: 2200,
      username: 'ci',
      identityFiles: [join(dir, '.ssh/builder_key')],
      knownHostsFiles: [join(dir, '.ssh/builder_hosts'), '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      acceptUnknownHosts: true,
      timeoutMs: 7000,
    });
  });
});

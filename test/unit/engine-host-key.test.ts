import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, keyType } from '../../packages/builder/src/engine/check-host-key.js';

/** An SSH wire-format key blob: string type, then opaque bytes (enough for comparisons). */
function blob(type: string, seed: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from(seed)]);
}

const ed = blob('ssh-ed25519', 'host-a');
const edOther = blob('ssh-ed25519', 'host-b');
const rsa = blob('ssh-rsa', 'host-a-rsa');
const line = (hosts: string, key: Buffer, marker = '') =>
  `${marker ? `${marker} ` : ''}${hosts} ${keyType(key)} ${key.toString('base64')} comment`;

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('checkHostKey', () => {
  it('finds plain, [host]:port, hashed and wildcard entries', () => {
    expect(checkHostKey([line('builder,10.0.0.5', ed)], 'builder', 22, ed)).toBe('known');
    expect(checkHostKey([line('[127.0.0.1]:2222', ed)], '127.0.0.1', 2222, ed)).toBe('known');
    expect(checkHostKey([line('127.0.0.1', ed)], '127.0.0.1', 2222, ed)).toBe('unknown');
    expect(checkHostKey([line(hashed('[127.0.0.1]:2222'), ed)], '127.0.0.1', 2222, ed)).toBe('known');
    expect(checkHostKey([line('*.example.com,!bad.example.com', ed)], 'ci.example.com', 22, ed)).toBe('known');
    expect(checkHostKey([line('*.example.com,!bad.example.com', ed)], 'bad.example.com', 22, ed)).toBe('unknown');
  });

  it('refuses a changed key of the same type, not a host known only by another key type', () => {
    const text = ['# comment', '', line('builder', edOther)].join('\n');
    expect(checkHostKey([text], 'builder', 22, ed)).toBe('changed');
    expect(checkHostKey([line('builder', rsa)], 'builder', 22, ed)).toBe('unknown');
    expect(checkHostKey([line('builder', edOther), line('builder', ed)], 'builder', 22, ed)).toBe('known');
  });

  it('honours @revoked and ignores @cert-authority', () => {
    expect(checkHostKey([line('builder', ed), line('*', ed, '@revoked')], 'builder', 22, ed)).toBe('revoked');
    expect(checkHostKey([line('builder', ed, '@cert-authority')], 'builder', 22, ed)).toBe('unknown');
  });

  it('reads the key type from the blob', () => {
    expect(keyType(ed)).toBe('ssh-ed25519');
    expect(keyType(Buffer.alloc(2))).toBe('');
  });
});

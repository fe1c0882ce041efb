import { createHmac } from 'node:crypto';

/**
 * What known_hosts says about a host key: `known` (listed), `changed` (the host is listed with a different key of
 * the same type — refused, as OpenSSH does), `revoked` (an `@revoked` line), `unknown` (not listed).
 */
export type HostKeyStatus = 'known' | 'changed' | 'revoked' | 'unknown';

/**
 * Looks a host key up in known_hosts text (OpenSSH format): plain, wildcard (`*`, `?`), negated (`!`) and hashed
 * (`|1|salt|hash`) host patterns, `[host]:port` for ports other than 22, `@revoked` markers. `@cert-authority`
 * lines are ignored (host certificates are not supported).
 * @param key the host key blob in SSH wire format (what the server sent).
 */
export function checkHostKey(knownHosts: readonly string[], host: string, port: number, key: Buffer): HostKeyStatus {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const type = keyType(key);
  let status: HostKeyStatus = 'unknown';
  for (const text of knownHosts) {
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (!entry || entry.marker === '@cert-authority' || !matchesHost(entry.patterns, name)) continue;
      const same = entry.key.equals(key);
      if (entry.marker === '@revoked') {
        if (same) return 'revoked';
      } else if (same) {
        status = 'known';
      } else if (entry.type === type && status !== 'known') {
        status = 'changed';
      }
    }
  }
  return status;
}

/** `ssh-ed25519`, `ssh-rsa`, … : the first string of the key blob. */
export function keyType(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

interface Entry {
  marker?: string;
  patterns: string;
  type: string;
  key: Buffer;
}

function parseLine(line: string): Entry | undefined {
  const fields = line.trim().split(/\s+/);
  if (!fields[0] || fields[0].startsWith('#')) return undefined;
  const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
  const [patterns, type, base64] = fields;
  if (!patterns || !type || !base64) return undefined;
  return { ...(marker && { marker }), patterns, type, key: Buffer.from(base64, 'base64') };
}

function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return matchesHashed(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcard(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchesHashed(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function wildcard(pattern: string): RegExp {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i');
}

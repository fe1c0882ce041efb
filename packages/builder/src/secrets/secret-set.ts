import type { RegistryAuth } from '../engine/engine.js';

const REDACTED = '***';

/** Secret values that must never leave the process in text form; `redact` replaces them (and base64 forms) with ***. */
export class SecretSet {
  private readonly values = new Set<string>();

  add(...secrets: (string | undefined)[]): void {
    for (const secret of secrets) {
      if (!secret || secret.length < 4) continue;
      this.values.add(secret);
      this.values.add(Buffer.from(secret).toString('base64'));
      this.values.add(encodeURIComponent(secret));
    }
  }

  addAuth(auth: RegistryAuth): void {
    this.add(auth.password, auth.identitytoken);
    if (auth.username && auth.password) {
      const basic = `${auth.username}:${auth.password}`;
      this.add(Buffer.from(basic).toString('base64'), Buffer.from(basic).toString('base64url'));
    }
  }

  /** A secret given as bytes (a build secret): its text, and its text without surrounding white space. */
  addValue(value: string | Uint8Array): void {
    const text = Buffer.from(value).toString('utf8');
    this.add(text, text.trim());
  }

  get size(): number {
    return this.values.size;
  }

  /** Every string inside `value` (arrays and plain objects, deeply) redacted; other values unchanged. */
  redactDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return redactWalk(value, (text) => this.redact(text)) as T;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another one is replaced whole.
    for (const secret of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    return out;
  }
}

function redactWalk(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactWalk(item, redact));
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactWalk(item, redact)]));
}

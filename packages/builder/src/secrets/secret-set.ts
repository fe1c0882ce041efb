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

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another one is replaced whole.
    for (const secret of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    return out;
  }
}

/**
 * Finds credentials in an image's ENV, labels, history and conventional credential files without ever returning a
 * value: a finding names where it is (ENV name, label key, history step, file path) and which pattern matched.
 */

export type SecretPattern =
  'aws-access-key-id' | 'aws-secret-access-key' | 'private-key' | 'secret-name' | 'url-credentials' | 'credential-file';

export interface SecretFinding {
  where: 'ENV' | 'LABEL' | 'HISTORY' | 'FILE';
  /** ENV variable name, label key, the variable name found in a history step, or the file path. */
  name: string;
  /** Index of the history step (0 = oldest) for `HISTORY` findings. */
  step?: number;
  pattern: SecretPattern;
}

const DESCRIPTIONS: Record<SecretPattern, string> = {
  'aws-access-key-id': 'an AWS access key id',
  'aws-secret-access-key': 'an AWS secret access key',
  'private-key': 'a private key',
  'secret-name': 'a secret-named variable with a value',
  'url-credentials': 'a URL with a password',
  'credential-file': 'a credentials file',
};

/** Files that hold credentials by convention (their content is never read). */
const CREDENTIAL_FILE =
  /\/(?:\.aws\/credentials|\.ssh\/id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?|\.git-credentials|\.docker\/config\.json|\.pypirc|\.netrc)$/;

/** Human description of a pattern (for messages). */
export function describeSecretPattern(p: SecretPattern): string {
  return DESCRIPTIONS[p];
}

const AWS_KEY_ID = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/;
const AWS_SECRET = /(?:^|[^A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?:[^A-Za-z0-9/+=]|$)/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
/** `*_SECRET*`, `*_TOKEN*`, `*PASSWORD*` and friends, with `_`, `-`, `.` as separators. */
const SECRET_NAME =
  /(?:^|[_.-])(?:SECRETS?|TOKENS?|PASSWORDS?|PASSWD|PASSPHRASE|API[_.-]?KEYS?|PRIVATE[_.-]?KEYS?|ACCESS[_.-]?KEYS?|CREDENTIALS?)(?:$|[_.-])|PASSWORD/i;
/** Names that reference a secret rather than hold it (`APP_SECRETS_ID`, `DB_PASSWORD_FILE`, `TOKEN_PATH`). */
const REFERENCE_NAME = /[_.-](?:ID|IDS|FILE|PATH|ARN|NAME|REGION|ENDPOINT|URL|DIR|TTL|LENGTH)$/i;
const AWS_NAME = /AWS|SECRET/i;
const ASSIGNMENT = /([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|]*)/g;

function unquote(v: string): string {
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")) ? v.slice(1, -1) : v;
}

/** Which pattern a name/value pair matches, if any. The value is only tested, never returned. */
export function classifySecret(name: string, value: string): SecretPattern | undefined {
  if (value.trim() === '') return undefined;
  if (PRIVATE_KEY.test(value)) return 'private-key';
  if (AWS_KEY_ID.test(value)) return 'aws-access-key-id';
  if (AWS_NAME.test(name) && AWS_SECRET.test(value)) return 'aws-secret-access-key';
  if (URL_CREDENTIALS.test(value)) return 'url-credentials';
  if (SECRET_NAME.test(name) && !REFERENCE_NAME.test(name) && !/^\$\{?[A-Za-z_]/.test(value)) return 'secret-name';
  return undefined;
}

/** Scans ENV (`NAME=value` strings), labels and history `created_by` texts. */
export function scanSecrets(input: {
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  history: readonly string[];
  /** Paths of regular files in the final tree: conventional credential files are reported by name. */
  files?: Iterable<string>;
}): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const path of input.files ?? []) {
    if (CREDENTIAL_FILE.test(path)) findings.push({ where: 'FILE', name: path, pattern: 'credential-file' });
  }
  for (const kv of input.env) {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const pattern = classifySecret(name, eq < 0 ? '' : kv.slice(eq + 1));
    if (pattern) findings.push({ where: 'ENV', name, pattern });
  }
  for (const [name, value] of Object.entries(input.labels)) {
    const pattern = classifySecret(name, value);
    if (pattern) findings.push({ where: 'LABEL', name, pattern });
  }
  input.history.forEach((text, step) => {
    const seen = new Set<string>();
    for (const m of text.matchAll(ASSIGNMENT)) {
      const name = m[1] as string;
      const pattern = classifySecret(name, unquote(m[2] ?? ''));
      if (pattern && !seen.has(name)) {
        seen.add(name);
        findings.push({ where: 'HISTORY', name, step, pattern });
      }
    }
    // Values not in NAME=value form (`ENV KEY value`, a key pasted into a RUN line).
    for (const [re, pattern] of [
      [AWS_KEY_ID, 'aws-access-key-id'],
      [PRIVATE_KEY, 'private-key'],
      [URL_CREDENTIALS, 'url-credentials'],
    ] as const) {
      if (re.test(text.replace(ASSIGNMENT, ' ')) && !findings.some((f) => f.step === step && f.pattern === pattern)) {
        findings.push({ where: 'HISTORY', name: '(text)', step, pattern });
      }
    }
  });
  return findings;
}

/** One line per finding, e.g. `ENV AWS_SECRET_ACCESS_KEY looks like a credential (an AWS secret access key; value hidden)`. */
export function describeSecretFinding(f: SecretFinding): string {
  const where =
    f.where === 'HISTORY'
      ? `history step ${f.step ?? '?'}${f.name === '(text)' ? '' : ` ${f.name}`}`
      : `${f.where} ${f.name}`;
  return `${where} looks like a credential (${DESCRIPTIONS[f.pattern]}; value hidden)`;
}

/**
 * Replaces credential-looking values in free text (history lines, log lines) with `***`: values of secret-named
 * `NAME=value` assignments, AWS key ids, private key blocks, URL passwords and any of `knownValues`.
 */
export function redactSecrets(text: string, knownValues: readonly string[] = []): string {
  let out = text;
  for (const v of knownValues) if (v.length >= 4) out = out.split(v).join('***');
  out = out.replace(ASSIGNMENT, (all, name: string, value: string) =>
    classifySecret(name, unquote(value)) ? `${name}=***` : all,
  );
  out = out.replace(new RegExp(AWS_KEY_ID.source, 'g'), '***');
  out = out.replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, '***');
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+@/gi, '$1***@');
  return out;
}

/** The values of ENV entries that look like credentials: to redact them from container logs. */
export function secretEnvValues(env: readonly string[]): string[] {
  const out: string[] = [];
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq < 0) continue;
    const value = kv.slice(eq + 1);
    if (classifySecret(kv.slice(0, eq), value)) out.push(value);
  }
  return out;
}

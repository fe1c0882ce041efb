import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineTlsError, type TlsCertificate } from './engine-errors.js';

/** TLS material for an engine, with the file each part came from (for error messages). */
export interface EngineTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Do not verify the engine's certificate (a context's `SkipTLSVerify`, or `DOCKER_TLS` without verification). */
  skipVerify: boolean;
  files: { ca?: string; cert?: string; key?: string };
}

/** A directory holding `ca.pem`, `cert.pem`, `key.pem`, as the Docker CLI lays them out. */
export interface TlsDirectory {
  dir: string;
  /** Where the directory came from, e.g. `DOCKER_CERT_PATH` or `context "remote"`. */
  origin: string;
  /** An explicitly named directory must exist, and hold `ca.pem` when the engine is verified. */
  required: boolean;
}

const LABEL: Record<TlsCertificate, string> = {
  ca: 'CA certificate',
  cert: 'client certificate',
  key: 'client key',
  server: "engine's certificate",
};

type Engine = { address: string; source: string };

/**
 * Reads and checks the TLS files of an engine: missing files are skipped unless the directory was named explicitly;
 * a cert without its key (or the reverse), an unreadable or unparsable file, or a key that does not belong to the
 * certificate fails with an error naming the file and the engine.
 * @throws {EngineTlsError}
 */
export function readTlsFiles(engine: Engine, location: TlsDirectory, skipVerify: boolean): EngineTls {
  const fail = (which: TlsCertificate, file: string | undefined, problem: string, cause?: unknown) =>
    new EngineTlsError(engine.address, engine.source, which, file, problem, { cause });
  if (location.required && !existsSync(location.dir)) {
    throw fail('ca', location.dir, `certificate directory ${location.dir} (${location.origin}) does not exist`);
  }
  const tls: EngineTls = { skipVerify, files: {} };
  for (const which of ['ca', 'cert', 'key'] as const) {
    const file = join(location.dir, `${which}.pem`);
    const content = readOptional(file, (error) =>
      fail(which, file, `cannot read the ${LABEL[which]} ${file} (${location.origin}): ${describe(error)}`, error),
    );
    if (content) {
      tls[which] = content;
      tls.files[which] = file;
    }
  }
  const missing = (which: TlsCertificate, reason: string) =>
    fail(which, join(location.dir, `${which}.pem`), `${LABEL[which]} ${join(location.dir, `${which}.pem`)} ${reason}`);
  if (location.required && !skipVerify && !tls.ca) throw missing('ca', `is missing (${location.origin})`);
  if (tls.cert && !tls.key) throw missing('key', `is missing (${location.origin}), but cert.pem is there`);
  if (tls.key && !tls.cert) throw missing('cert', `is missing (${location.origin}), but key.pem is there`);
  checkTlsFiles(tls, fail);
  return tls;
}

function checkTlsFiles(
  tls: EngineTls,
  fail: (which: TlsCertificate, file: string | undefined, problem: string, cause?: unknown) => EngineTlsError,
): void {
  const parse = <T>(which: TlsCertificate, make: (pem: Buffer) => T): T | undefined => {
    const pem = tls[which as 'ca' | 'cert' | 'key'];
    if (!pem) return undefined;
    try {
      return make(pem);
    } catch (error) {
      const file = tls.files[which as 'ca' | 'cert' | 'key'];
      throw fail(which, file, `the ${LABEL[which]} ${file} is not valid PEM: ${describe(error)}`, error);
    }
  };
  parse('ca', (pem) => new X509Certificate(pem));
  const cert = parse('cert', (pem) => new X509Certificate(pem));
  const key: KeyObject | undefined = parse('key', (pem) => createPrivateKey(pem));
  if (cert && key && !cert.checkPrivateKey(key)) {
    throw fail('key', tls.files.key, `the client key ${tls.files.key} does not belong to ${tls.files.cert}`);
  }
}

function readOptional(file: string, onError: (error: unknown) => Error): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw onError(error);
  }
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
}

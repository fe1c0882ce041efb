import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from './exec.js';

/** A CA and the certificates it signed, as files; `clientDir` is laid out like DOCKER_CERT_PATH. */
export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Holds `ca.pem`, `cert.pem`, `key.pem` (the client side). */
  clientDir: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(cwd: string, args: string[]): Promise<void> {
  const result = await execa('openssl', args, { cwd });
  if (result.exitCode !== 0) throw new Error(`openssl ${args.join(' ')} exited ${result.exitCode}:\n${result.stderr}`);
}

/** A key and a certificate signed by the CA in `dir`, with the given X.509 extensions. */
async function signed(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(dir, ['req', ...EC_KEY, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}-cert.pem`,
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * Makes a fresh CA under `dir`, a server certificate for 127.0.0.1 / localhost and a client certificate (P-256,
 * valid 2 days), with openssl: what `dockerd --tlsverify` and its client need for mutual TLS.
 */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const clientDir = join(dir, 'client');
  await mkdir(clientDir, { recursive: true });
  const subject = '/CN=4pass test CA';
  await openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    subject,
  ]);
  await signed(dir, 'server', '/CN=127.0.0.1', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth',
  ]);
  await signed(dir, 'client', '/CN=4pass test client', ['extendedKeyUsage=clientAuth']);
  await copyFile(join(dir, 'ca.pem'), join(clientDir, 'ca.pem'));
  await copyFile(join(dir, 'client-cert.pem'), join(clientDir, 'cert.pem'));
  await copyFile(join(dir, 'client-key.pem'), join(clientDir, 'key.pem'));
  return {
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server-cert.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientDir,
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa } from '../../harness/exec.js';
import { freePort } from '../../harness/registry.js';
import { processesUnder, stopProcess } from '../../harness/host-processes.js';

/**
 * Debian's OpenSSH server on 127.0.0.1 for `ssh://` engine tests, as a remote builder host would run it: its own
 * host key, config and authorized key (all under `dir`), public-key login only. Sessions get
 * `DOCKER_HOST=<dockerHost>` so the Docker CLI's `docker system dial-stdio` reaches the engine under test, a PATH
 * that finds Debian's /usr/bin/docker, and an empty HOME (no login scripts to slow every channel down).
 */
export interface SshServer {
  port: number;
  user: string;
  /** The client's private key (authorized on the server). */
  clientKey: string;
  /** A known_hosts line for `[127.0.0.1]:<port>`. */
  knownHostsLine: string;
  stop(): Promise<void>;
}

async function keygen(file: string): Promise<string> {
  const result = await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '4pass-test', '-f', file]);
  if (result.exitCode !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

function sshdConfig(dir: string, port: number, dockerHost: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    `SetEnv DOCKER_HOST=${dockerHost} PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=${join(dir, 'home')}`,
    'LogLevel ERROR',
    '',
  ].join('\n');
}

/** Starts sshd under `dir` and waits for its SSH banner. */
export async function startSshServer(options: { dir: string; dockerHost: string }): Promise<SshServer> {
  const dir = join(options.dir, 'sshd');
  await mkdir(join(dir, 'home'), { recursive: true });
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory (Debian's package makes it at boot)
  const hostKey = await keygen(join(dir, 'host_key'));
  await writeFile(join(dir, 'authorized_keys'), `${await keygen(join(dir, 'client_key'))}\n`);
  const port = await freePort();
  await writeFile(join(dir, 'sshd_config'), sshdConfig(dir, port, options.dockerHost));
  const log = openSync(join(dir, 'sshd.log'), 'a');
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', log, log] });
  closeSync(log);
  await waitForBanner(port, child, join(dir, 'sshd.log'));
  const [type, key] = hostKey.split(' ');
  return {
    port,
    user: 'root',
    clientKey: join(dir, 'client_key'),
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`,
    stop: () => stopSshd(child, dir),
  };
}

/** Stops the listener and every session it forked (they outlive it otherwise). */
async function stopSshd(child: ChildProcess, dir: string): Promise<void> {
  const sessions = child.pid ? processesUnder(dir, [child.pid]) : [];
  await stopProcess(child, 5_000);
  for (const { pid } of sessions) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function waitForBanner(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${await readFile(logFile, 'utf8')}`);
    if (await banner(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port}: ${await readFile(logFile, 'utf8')}`);
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('SSH-2.0'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

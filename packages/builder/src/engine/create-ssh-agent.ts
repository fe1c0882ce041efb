import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type AnyAuthMethod, type Client, type ClientChannel } from 'ssh2';
import { checkHostKey, keyType, type HostKeyStatus } from './check-host-key.js';
import type { SshSettings } from './resolve-ssh-settings.js';
import { EngineSshError } from './engine-errors.js';

// ssh2 is CommonJS: Node's ESM loader offers no named exports for it.
const { Client: SshClient, utils } = ssh2;

type EngineName = { address: string; source: string };

/** The command the Docker CLI runs on the remote side: it relays stdin/stdout to the remote engine's socket. */
export const DIAL_STDIO = 'docker system dial-stdio';

/**
 * An HTTP agent that reaches an engine the way the Docker CLI does over `ssh://`: every HTTP connection is a
 * `docker system dial-stdio` channel on ONE SSH connection (opened on first use, re-opened after it drops). The
 * socket is unref'd while no channel is open, so an idle engine never keeps the process alive.
 * Authentication: the agent first, then each identity file (see {@link SshSettings}); the host key must be in
 * known_hosts unless StrictHostKeyChecking allows unknown hosts.
 */
export function createSshAgent(settings: SshSettings, engine: EngineName): Agent {
  const connection = sshConnection(settings, engine);
  const agent = new Agent({ keepAlive: false });
  agent.createConnection = (_options, callback) => {
    connection.open().then(
      (channel) => callback?.(null, channel as unknown as Socket),
      (error: Error) => callback?.(error, undefined as unknown as Socket),
    );
    return undefined as unknown as Socket;
  };
  return agent;
}

function sshConnection(settings: SshSettings, engine: EngineName) {
  let client: Promise<Client> | undefined;
  let socket: Socket | undefined;
  // Channels open or being opened: while any is, the socket keeps the process alive; at zero it is unref'd.
  let users = 0;
  const hold = () => {
    users += 1;
    socket?.ref();
  };
  const release = () => {
    users -= 1;
    if (users === 0) socket?.unref();
  };
  const connected = () =>
    handshake(settings, engine, (s) => (socket = s)).then(
      (ready) => {
        // Later failures (a dropped connection) surface on the channels; the next request reconnects.
        ready.on('error', () => (client = undefined)).once('close', () => (client = undefined));
        return ready;
      },
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
  return {
    async open(): Promise<Duplex> {
      hold();
      try {
        client ??= connected();
        const channel = await dialStdio(await client, settings, engine);
        channel.once('close', release);
        return channel;
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}

function handshake(settings: SshSettings, engine: EngineName, onSocket: (socket: Socket) => void): Promise<Client> {
  const { methods, skipped } = authMethods(settings);
  if (methods.length === 0) {
    const problem =
      `no key to offer for ${settings.username}@${settings.host}: SSH_AUTH_SOCK is not set and no identity file ` +
      `is usable (${settings.identityFiles.length ? skipped.join('; ') : 'none of ~/.ssh/id_rsa, id_ecdsa, id_ed25519 exists'})`;
    return Promise.reject(new EngineSshError(engine.address, engine.source, 'auth', problem));
  }
  let hostKey: { status: HostKeyStatus; type: string } | undefined;
  const socket = connect({ host: settings.host, port: settings.port });
  onSocket(socket);
  const client = new SshClient();
  return new Promise<Client>((resolve, reject) => {
    const onError = (error: Error & { level?: string }) => {
      socket.destroy();
      reject(sshError(error, settings, engine, hostKey, methods.length, skipped));
    };
    client.on('error', onError).once('ready', () => {
      client.off('error', onError);
      resolve(client);
    });
    client.connect({
      sock: socket,
      username: settings.username,
      authHandler: methods,
      readyTimeout: settings.timeoutMs,
      hostVerifier: (key: Buffer) => {
        const status = checkHostKey(readKnownHosts(settings.knownHostsFiles), settings.host, settings.port, key);
        hostKey = { status, type: keyType(key) };
        return status === 'known' || (status === 'unknown' && settings.acceptUnknownHosts);
      },
    });
  });
}

function authMethods(settings: SshSettings): { methods: AnyAuthMethod[]; skipped: string[] } {
  const username = settings.username;
  const methods: AnyAuthMethod[] = settings.agent ? [{ type: 'agent', username, agent: settings.agent }] : [];
  const skipped: string[] = [];
  for (const file of settings.identityFiles) {
    let parsed;
    try {
      parsed = utils.parseKey(readFileSync(file));
    } catch (error) {
      skipped.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key instanceof Error)
      skipped.push(`${file}: ${key?.message ?? 'no key'} (encrypted keys need the agent)`);
    else methods.push({ type: 'publickey', username, key });
  }
  return { methods, skipped };
}

function readKnownHosts(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    try {
      return [readFileSync(file, 'utf8')];
    } catch {
      return [];
    }
  });
}

function sshError(
  error: Error & { level?: string },
  settings: SshSettings,
  engine: EngineName,
  hostKey: { status: HostKeyStatus; type: string } | undefined,
  offered: number,
  skipped: string[],
): Error {
  const target = settings.port === 22 ? settings.host : `[${settings.host}]:${settings.port}`;
  const fail = (stage: EngineSshError['stage'], problem: string) =>
    new EngineSshError(engine.address, engine.source, stage, problem, { cause: error });
  if (hostKey && hostKey.status !== 'known' && !(hostKey.status === 'unknown' && settings.acceptUnknownHosts)) {
    const files = settings.knownHostsFiles.join(', ');
    if (hostKey.status === 'unknown') {
      return fail(
        'host-key',
        `the ${hostKey.type} host key of ${target} is not in known_hosts (${files}); add it after checking its ` +
          `fingerprint, e.g. ssh-keyscan -p ${settings.port} ${settings.host} >> ~/.ssh/known_hosts`,
      );
    }
    return fail('host-key', `the ${hostKey.type} host key of ${target} is ${hostKey.status} (known_hosts: ${files})`);
  }
  if (error.level === 'client-authentication') {
    const tried = [settings.agent ? `agent ${settings.agent}` : '', ...settings.identityFiles].filter(Boolean);
    const notes = skipped.length ? `; skipped ${skipped.join('; ')}` : '';
    return fail(
      'auth',
      `${target} accepted none of ${offered} key source(s) for ${settings.username} (${tried.join(', ')})${notes}`,
    );
  }
  if (error.level === 'client-socket' || error.level === 'client-timeout') return error;
  return fail('connect', `${target}: ${error.message}`);
}

function dialStdio(client: Client, settings: SshSettings, engine: EngineName): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(DIAL_STDIO, (error, channel) => {
      if (error) {
        const problem = `cannot run "${DIAL_STDIO}" on ${settings.host}: ${error.message}`;
        reject(new EngineSshError(engine.address, engine.source, 'remote', problem, { cause: error }));
        return;
      }
      let stderr = '';
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      channel.once('exit', (code: number | null) => {
        if (code === 0 || code === null) return;
        const problem = `"${DIAL_STDIO}" exited ${code} on ${settings.host}: ${stderr.trim() || 'no output'}`;
        (channel as unknown as Duplex).destroy(new EngineSshError(engine.address, engine.source, 'remote', problem));
      });
      // http.ClientRequest may call these socket methods; an SSH channel has no such knobs.
      Object.assign(channel, { setTimeout: () => channel, setNoDelay: () => channel, setKeepAlive: () => channel });
      resolve(channel);
    });
  });
}

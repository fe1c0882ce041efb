import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';

/**
 * How to reach an engine over `ssh://`, resolved the way the OpenSSH client would for the parts that matter here:
 * `~/.ssh/config` (Host blocks: HostName, Port, User, IdentityFile, IdentityAgent, IdentitiesOnly,
 * UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking, ConnectTimeout; `Match exec` is never run,
 * `Include`, ProxyJump and ProxyCommand are not followed), the agent at `SSH_AUTH_SOCK`, and the default keys
 * `~/.ssh/id_rsa`, `id_ecdsa`, `id_ed25519` when the config names no IdentityFile.
 */
export interface SshSettings {
  /** The host connected to (HostName from the config, else the URL's host); known_hosts is checked for it. */
  host: string;
  port: number;
  username: string;
  /** The agent socket tried first (unset with `IdentitiesOnly yes` or `IdentityAgent none`). */
  agent?: string;
  /** Private key files tried after the agent, in order; encrypted keys are skipped (no prompt). */
  identityFiles: string[];
  /** known_hosts files, user files first. */
  knownHostsFiles: string[];
  /** `StrictHostKeyChecking no` / `accept-new`: a host missing from known_hosts is accepted (never written down). */
  acceptUnknownHosts: boolean;
  /** Connect and handshake timeout. */
  timeoutMs: number;
}

export interface SshSettingsOptions {
  env: NodeJS.ProcessEnv;
  /** Home directory for `~` (default `$HOME`, else the OS's). */
  homeDir?: string;
  /** Default `~/.ssh/config`; a missing file is no error. */
  configFile?: string;
  timeoutMs: number;
}

const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

/** Resolves `ssh://[user@]host[:port]` with the user's ssh config, keys and known_hosts files. */
export function resolveSshSettings(url: URL, options: SshSettingsOptions): SshSettings {
  const home = options.homeDir ?? options.env.HOME ?? homedir();
  const alias = url.hostname;
  const config = readSshConfig(options.configFile ?? join(home, '.ssh', 'config'), alias);
  const one = (key: string) => first(config[key]);
  const localUser = options.env.USER ?? userInfo().username;
  const username = decodeURIComponent(url.username) || one('user') || localUser;
  const port = Number(url.port || one('port') || 22);
  const expand = tokens({ home, alias, localUser, username, port });
  const host = expand(one('hostname') ?? alias);
  const configured = list(config.identityfile).map(expand);
  const defaults = DEFAULT_KEYS.map((name) => join(home, '.ssh', name)).filter((file) => existsSync(file));
  const identityAgent = one('identityagent');
  const agent =
    one('identitiesonly')?.toLowerCase() === 'yes' || identityAgent === 'none'
      ? undefined
      : identityAgent && identityAgent !== 'SSH_AUTH_SOCK'
        ? expand(identityAgent)
        : options.env.SSH_AUTH_SOCK || undefined;
  const userKnown = list(config.userknownhostsfile);
  const globalKnown = list(config.globalknownhostsfile);
  const strict = one('stricthostkeychecking')?.toLowerCase();
  const connectTimeout = Number(one('connecttimeout'));
  return {
    host,
    port,
    username,
    ...(agent && { agent }),
    identityFiles: configured.length ? configured : defaults,
    knownHostsFiles: [
      ...(userKnown.length ? userKnown : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']),
      ...(globalKnown.length ? globalKnown : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
    ].map(expand),
    acceptUnknownHosts: strict === 'no' || strict === 'off' || strict === 'accept-new',
    timeoutMs: connectTimeout > 0 ? connectTimeout * 1000 : options.timeoutMs,
  };
}

function readSshConfig(file: string, alias: string): Record<string, string | string[]> {
  if (!existsSync(file)) return {};
  // matchExec: false — a library never runs the shell commands of `Match exec` lines.
  return SSHConfig.parse(readFileSync(file, 'utf8')).compute(alias, { ignoreCase: true, matchExec: false });
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

/** OpenSSH's `~` and `%` tokens for paths and HostName: %d home, %h host alias, %p port, %r remote user, %u local user. */
function tokens(t: { home: string; alias: string; localUser: string; username: string; port: number }) {
  const values: Record<string, string> = {
    '%': '%',
    d: t.home,
    h: t.alias,
    p: String(t.port),
    r: t.username,
    u: t.localUser,
  };
  return (value: string): string =>
    value.replace(/^~(?=\/|$)/, t.home).replace(/%([%dhpru])/g, (_m, k: string) => values[k] ?? '');
}

import { ClosureError } from './closure-error.js';

/** The runtime user's lines of /etc/passwd and /etc/group. */
export interface Accounts {
  name: string;
  uid: number;
  gid: number;
  passwd: string;
  group: string;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

/**
 * The /etc/passwd line of `user` (a name or a uid) and the /etc/group lines of its primary group and of the groups
 * that list it as a member: the only lines a process running as that user looks up.
 * @throws {ClosureError} when the user or its primary group is not there
 */
export function selectAccounts(passwd: string, group: string, user: string | number): Accounts {
  const wanted = String(user);
  const byUid = /^\d+$/.test(wanted);
  const line = lines(passwd).find((l) => l.split(':')[byUid ? 2 : 0] === wanted);
  if (!line) throw new ClosureError(`the runtime user ${wanted} is not in /etc/passwd of the root filesystem`);
  const [name = '', , uid = '', gid = ''] = line.split(':');
  const groups = lines(group).filter((l) => {
    const f = l.split(':');
    return f[2] === gid || (f[3] ?? '').split(',').includes(name);
  });
  if (!groups.some((l) => l.split(':')[2] === gid)) {
    throw new ClosureError(`the primary group ${gid} of the runtime user ${name} is not in /etc/group`);
  }
  return { name, uid: Number(uid), gid: Number(gid), passwd: `${line}\n`, group: groups.map((l) => `${l}\n`).join('') };
}

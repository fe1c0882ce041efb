import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';

/**
 * What a test harness (second engine, sshd) leaves on the host, found by its private directory: processes whose
 * command line names it, mounts below it, and the bridge it created. Used to stop everything, and to prove that
 * nothing is left.
 */
export interface HostLeftovers {
  processes: { pid: number; command: string }[];
  mounts: string[];
  bridge: boolean;
  /** iptables rules (`-A …` as `iptables -S` prints them) whose comment names the directory. */
  rules: string[];
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Processes whose command line mentions `dir` (dockerd, its containerd and shims, sshd), plus `also`'s descendants. */
export function processesUnder(dir: string, also: number[] = []): { pid: number; command: string }[] {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const parent = new Map(pids.map((p) => [Number(p), Number(readProc(p, 'stat').split(') ')[1]?.split(' ')[1])]));
  const roots = new Set(also);
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p && hops < 64; p = parent.get(p), hops++) if (roots.has(p)) return true;
    return false;
  };
  return pids
    .map((p) => ({ pid: Number(p), command: readProc(p, 'cmdline').replaceAll('\0', ' ').trim() }))
    .filter(({ pid, command }) => pid !== process.pid && (command.includes(dir) || isDescendant(pid)));
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

export function bridgeExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The comment that marks the iptables rules a harness added for `dir` (no spaces, so a rule splits on blanks). */
export const ruleComment = (dir: string): string => `4pass:${dir}`;

/** iptables rules (nat and filter tables) whose comment names `dir`. */
export function rulesUnder(dir: string): { table: string; rule: string }[] {
  return ['nat', 'filter'].flatMap((table) => {
    const listed = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' });
    const lines = listed.status === 0 ? listed.stdout.split('\n') : [];
    return lines.filter((l) => l.startsWith('-A ') && l.includes(ruleComment(dir))).map((rule) => ({ table, rule }));
  });
}

/** Adds an iptables rule (`-I CHAIN …`) marked with `dir`'s comment; throws with iptables' own message. */
export function addRule(dir: string, table: string, spec: string[]): void {
  const args = ['-w', '-t', table, ...spec, '-m', 'comment', '--comment', ruleComment(dir)];
  const result = spawnSync('iptables', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`iptables ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

export function leftovers(dir: string, bridge: string, also: number[] = []): HostLeftovers {
  const rules = rulesUnder(dir).map((r) => r.rule);
  return { processes: processesUnder(dir, also), mounts: mountsUnder(dir), bridge: bridgeExists(bridge), rules };
}

/**
 * Kills what is left (SIGKILL), unmounts below `dir` (deepest first), deletes its iptables rules, the bridge and the
 * directory.
 */
export function removeLeftovers(dir: string, bridge: string, also: number[] = []): void {
  for (const { pid } of processesUnder(dir, also)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const point of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', point]);
  // `iptables -S` quotes the comment (`--comment "4pass:/tmp/…"`): the quotes are not part of the rule.
  for (const { table, rule } of rulesUnder(dir)) {
    const args = rule
      .split(/\s+/)
      .slice(1)
      .map((word) => word.replace(/^"(.*)"$/, '$1'));
    spawnSync('iptables', ['-w', '-t', table, '-D', ...args]);
  }
  if (bridge && bridgeExists(bridge)) spawnSync('ip', ['link', 'del', bridge]);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. */
export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

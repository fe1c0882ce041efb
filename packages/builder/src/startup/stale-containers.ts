import { hostname } from 'node:os';
import type { EngineContainers } from '../engine/engine.js';

/** Label on every container a measurement creates (value: the measurement id), so leftovers can be found. */
export const STARTUP_LABEL = 'org.4pass.startup';
/** Which process made a start-up container: `<host>/<pid>/<ms since 1970>`. */
export const STARTUP_OWNER_LABEL = 'org.4pass.startup.owner';

/** This process as the owner of the containers it creates. */
export function startupOwner(now: number = Date.now()): string {
  return `${hostname()}/${process.pid}/${now}`;
}

export interface StaleContainerOptions {
  /** Default `os.hostname()`. */
  host?: string;
  /** Whether a process of this host still runs (default: `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
  now?: number;
  /** Containers of another host (or without an owner) count as stale after this long. Default 1 hour. */
  maxAgeMs?: number;
}

/**
 * Removes the start-up containers of runs that are gone — killed with SIGKILL, or crashed — found by label: those whose
 * owner process on this host no longer runs, and those of other hosts (or without an owner) older than `maxAgeMs`.
 * Containers of a run still going (here or elsewhere) are left alone. Returns the ids removed.
 */
export async function removeStaleStartupContainers(
  engine: EngineContainers,
  options: StaleContainerOptions = {},
): Promise<string[]> {
  const containers = await engine.listContainers({ label: [STARTUP_LABEL] });
  const stale = containers.filter((c) => isStale(c.labels, options));
  await Promise.all(stale.map((c) => engine.removeContainer(c.id)));
  return stale.map((c) => c.id);
}

function isStale(labels: Record<string, string>, options: StaleContainerOptions): boolean {
  const now = options.now ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const [host, pid, since] = (labels[STARTUP_OWNER_LABEL] ?? '').split('/');
  if (host && host === (options.host ?? hostname()) && pid && /^\d+$/.test(pid)) {
    return Number(pid) !== process.pid && !(options.isAlive ?? isAlive)(Number(pid));
  }
  // Another host's process cannot be asked; a measurement id starts with its time in base 36.
  const started = since ? Number(since) : parseInt((labels[STARTUP_LABEL] ?? '').slice(0, 8), 36);
  return Number.isFinite(started) && now - started > maxAgeMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // it exists, it is just not ours
  }
}

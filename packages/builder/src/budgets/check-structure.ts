import type { StructureConfig } from '../config/config-types.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import { resolveTreePath } from '../inspect/resolve-tree-path.js';
import type { StartupResult } from '../startup/startup-result.js';
import type { Check } from './check.js';
import { describeSecretFinding, scanSecrets } from '../secrets/scan-secrets.js';

/**
 * Structure checks, like container-structure-test plus what it lacks: non-root user, HEALTHCHECK, paths absent or
 * present in the final tree, the exact set of botocore data services, no credentials in ENV, labels, history or
 * conventional credential files, and that scanners can see what the image's executables and libraries are.
 * Structure checks always fail at level `fail`.
 */
export function checkStructure(facts: ImageFacts, structure: StructureConfig, startup?: StartupResult): Check[] {
  const checks: Check[] = [];
  if (structure.nonRoot)
    checks.push(structure.nonRoot === 'runtime' ? runtimeUserCheck(startup) : configUserCheck(facts.config.user));
  if (structure.healthcheck !== undefined) checks.push(healthcheckCheck(facts, structure.healthcheck));
  for (const p of structure.absentPaths) checks.push(pathCheck(facts, p, 'absent'));
  for (const p of structure.presentPaths) checks.push(pathCheck(facts, p, 'present'));
  if (structure.botocoreServices) checks.push(botocoreCheck(facts, structure.botocoreServices));
  checks.push(secretsCheck(facts, structure.noSecrets));
  if (structure.scannerVisible) checks.push(scannerVisibleCheck(facts));
  return checks;
}

const base = { level: 'fail' as const };

/** A check that counts problems (none allowed): pass at 0, fail above, skip when it could not look. */
function countCheck(
  id: string,
  status: 'pass' | 'fail' | 'skip',
  actual: number | null,
  message: string,
  details?: string[],
): Check {
  return { ...base, id, status, actual, limit: 0, unit: 'count', message, ...(details && { details }) };
}

/** `""`, `root`, `0`, `0:0`, `root:root` → root. */
export function isRootUser(user: string): boolean {
  const name = user.split(':')[0]?.trim() ?? '';
  return name === '' || name === 'root' || /^0+$/.test(name);
}

function configUserCheck(user: string): Check {
  const shown = user === '' ? '(unset: root)' : user;
  return isRootUser(user)
    ? {
        ...base,
        id: 'nonRoot',
        status: 'fail',
        actual: shown,
        limit: 'non-root',
        message: `user=${shown}: the image runs as root (set USER to a non-root user)`,
      }
    : { ...base, id: 'nonRoot', status: 'pass', actual: user, limit: 'non-root', message: `user=${user} is not root` };
}

function runtimeUserCheck(startup: StartupResult | undefined): Check {
  const id = 'nonRoot';
  if (!startup)
    return {
      ...base,
      id,
      status: 'skip',
      actual: null,
      limit: 'uid != 0',
      message: 'runtime user not measured (startup not run)',
    };
  if (startup.runtimeUid === undefined) {
    return {
      ...base,
      id,
      status: 'fail',
      actual: null,
      limit: 'uid != 0',
      message: 'could not read the user of PID 1 (no run became ready, or the engine could not list its processes)',
    };
  }
  return startup.runtimeUid === 0
    ? {
        ...base,
        id,
        status: 'fail',
        actual: 'uid=0',
        limit: 'uid != 0',
        message: 'PID 1 runs as root (uid=0) once ready',
      }
    : {
        ...base,
        id,
        status: 'pass',
        actual: `uid=${startup.runtimeUid}`,
        limit: 'uid != 0',
        message: `PID 1 runs as uid=${startup.runtimeUid} once ready`,
      };
}

function healthcheckCheck(facts: ImageFacts, required: boolean): Check {
  const id = 'healthcheck';
  const has = facts.config.healthcheck !== undefined;
  if (!required)
    return {
      ...base,
      id,
      status: 'skip',
      actual: has ? 'present' : 'absent',
      limit: null,
      message: 'HEALTHCHECK not required',
    };
  return has
    ? {
        ...base,
        id,
        status: 'pass',
        actual: 'present',
        limit: 'present',
        message: `HEALTHCHECK present (${facts.config.healthcheck?.[0] ?? ''})`,
      }
    : { ...base, id, status: 'fail', actual: 'absent', limit: 'present', message: 'no HEALTHCHECK in the image' };
}

/** `*` matches within a path segment, `**` across segments. */
export function pathPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The paths of the final tree a pattern names. A plain path is also found through symlinks (`/bin/sh` via `/bin` →
 * `usr/bin`, shown as `/bin/sh → /usr/bin/dash`): what a process in the container would open.
 */
function matchPaths(facts: ImageFacts, pattern: string): string[] {
  if (!/[*?]/.test(pattern)) {
    if (facts.tree.has(pattern)) return [pattern];
    const target = resolveTreePath(facts.tree, pattern);
    return target ? [`${pattern} → ${target.path}`] : [];
  }
  const re = pathPattern(pattern);
  const out: string[] = [];
  for (const p of facts.tree.keys()) if (re.test(p)) out.push(p);
  return out.sort();
}

function pathCheck(facts: ImageFacts, pattern: string, want: 'absent' | 'present'): Check {
  const found = matchPaths(facts, pattern);
  const id = `${want}Path:${pattern}`;
  const ok = want === 'absent' ? found.length === 0 : found.length > 0;
  const actual = found.length === 0 ? 'absent' : `present (${found.length})`;
  const message =
    want === 'absent'
      ? ok
        ? `${pattern} is absent`
        : `${pattern} must be absent but is present: ${found.slice(0, 3).join(', ')}${found.length > 3 ? ` (+${found.length - 3} more)` : ''}`
      : ok
        ? `${pattern} is present`
        : `${pattern} must be present but is absent`;
  return {
    ...base,
    id,
    status: ok ? 'pass' : 'fail',
    actual,
    limit: want,
    message,
    ...(found.length > 0 && { details: found.slice(0, 20) }),
  };
}

const BOTOCORE_SERVICE = /\/botocore\/data\/([^/]+)\/[^/]+\/service-2\.json(?:\.gz)?$/;

/** botocore data services in the tree: directories under `…/botocore/data/` holding a `<version>/service-2.json[.gz]`. */
export function findBotocoreServices(tree: ReadonlyMap<string, unknown>): { services: string[]; roots: string[] } {
  const services = new Set<string>();
  const roots = new Set<string>();
  for (const p of tree.keys()) {
    const m = BOTOCORE_SERVICE.exec(p);
    if (m) {
      services.add(m[1] as string);
      roots.add(p.slice(0, m.index + '/botocore/data'.length));
    }
  }
  return { services: [...services].sort(), roots: [...roots].sort() };
}

function botocoreCheck(facts: ImageFacts, expected: readonly string[]): Check {
  const id = 'botocoreServices';
  const { services, roots } = findBotocoreServices(facts.tree);
  const want = [...expected].sort();
  if (roots.length === 0)
    return {
      ...base,
      id,
      status: 'fail',
      actual: 'not found',
      limit: want.join(','),
      message: 'no botocore data directory in the image',
    };
  const missing = want.filter((s) => !services.includes(s));
  const extra = services.filter((s) => !want.includes(s));
  const ok = missing.length === 0 && extra.length === 0;
  const parts = [
    missing.length > 0 && `missing ${missing.join(', ')}`,
    extra.length > 0 &&
      `unexpected ${extra.length <= 10 ? extra.join(', ') : `${extra.slice(0, 10).join(', ')} (+${extra.length - 10} more)`}`,
  ].filter(Boolean);
  return {
    ...base,
    id,
    status: ok ? 'pass' : 'fail',
    actual: services.length <= 20 ? services.join(',') : `${services.length} services`,
    limit: want.join(','),
    message: ok
      ? `botocore data services = {${want.join(', ')}}`
      : `botocore data services differ: ${parts.join('; ')} (found ${services.length}, expected ${want.length})`,
    details: roots.map((r) => `botocore data at ${r}`),
  };
}

function secretsCheck(facts: ImageFacts, enabled: boolean): Check {
  const id = 'noSecrets';
  if (!enabled) return countCheck(id, 'skip', null, 'credential scan off');
  const files = [...facts.tree.values()].filter((n) => n.type === 'file').map((n) => n.path);
  const findings = scanSecrets({
    env: facts.config.env,
    labels: facts.config.labels,
    history: facts.history.map((h) => h.createdBy),
    files,
  });
  if (findings.length === 0)
    return countCheck(id, 'pass', 0, 'no credentials in ENV, labels, history or credential files');
  const lines = findings.map(describeSecretFinding);
  const message = findings.length === 1 ? (lines[0] as string) : `${findings.length} credentials found: ${lines[0]}; …`;
  return countCheck(id, 'fail', findings.length, message, lines);
}

/**
 * Every ELF file belongs to a package a scanner can see (a Debian package in dpkg's `status` or `status.d` whose file
 * list names it, a Python distribution with METADATA whose RECORD does), and Debian packages come with the
 * `/etc/os-release` scanners need to match them against their distribution's advisories.
 */
function scannerVisibleCheck(facts: ImageFacts): Check {
  const id = 'scannerVisible';
  const contents = facts.contents;
  if (!contents) return countCheck(id, 'skip', null, 'contents not read');
  const { files, unowned } = contents.elf;
  const problems = unowned.length;
  const noOs = contents.debian.length > 0 && !contents.os;
  const seen = `${contents.debian.length} Debian packages, ${contents.python.length} Python distributions`;
  if (problems === 0 && !noOs) {
    const os = contents.os ? `, ${contents.os.id} ${contents.os.version ?? ''}`.trimEnd() : '';
    return countCheck(id, 'pass', 0, `all ${files} ELF files belong to packages a scanner sees (${seen}${os})`);
  }
  const shown = unowned.slice(0, 3).join(', ') + (problems > 3 ? ` (+${problems - 3} more)` : '');
  const message = [
    problems > 0 && `${problems} of ${files} ELF files belong to no package a scanner can see: ${shown}`,
    noOs &&
      `${contents.debian.length} Debian packages but no /etc/os-release: scanners cannot match them to advisories`,
  ]
    .filter(Boolean)
    .join('; ');
  return countCheck(id, 'fail', problems + (noOs ? 1 : 0), message, problems > 0 ? unowned.slice(0, 20) : undefined);
}

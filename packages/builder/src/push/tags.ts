import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DirtyWorkTreeError, TagResolutionError } from './push-errors.js';

const execFileAsync = promisify(execFile);

export interface ResolveTagsOptions {
  /** A commit sha given explicitly (e.g. `--sha`); wins over everything else. */
  explicitSha?: string;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where to run git (default `process.cwd()`). */
  cwd?: string;
  /** Accept a dirty work tree for pushes (the `dirty` flag still says so). */
  allowDirty?: boolean;
  /** The tags are for a push: a dirty work tree is refused unless `allowDirty`. */
  forPush?: boolean;
}

/** Where the sha came from. */
export type ShaSource = 'explicit' | 'pull_request' | 'GITHUB_SHA' | 'git';

export interface ResolvedTags {
  /** Full commit sha, lower-case hex. */
  sha: string;
  /** First 7 hex digits. */
  shortSha: string;
  shaSource: ShaSource;
  /**
   * `['sha-<7>']`: the immutable tag a push creates. `latest` is never among them: it moves only when a gated sha is
   * released (`promoteImage`, `pnpm release`).
   */
  tags: string[];
  /**
   * The commit's time in seconds since the epoch, the `SOURCE_DATE_EPOCH` convention (reproducible-builds.org): the
   * variable when set, else the commit time from git (or from the GitHub push event); `undefined` when unknown. Never
   * the wall clock, so two builds of one commit carry the same time stamps and, fully cached, get the same image id.
   */
  sourceDateEpoch: number | undefined;
  /** OCI labels to set at build time; `created` is the commit time, absent when it is unknown. */
  labels: {
    'org.opencontainers.image.revision': string;
    'org.opencontainers.image.source'?: string;
    'org.opencontainers.image.created'?: string;
  };
  /** The work tree had uncommitted changes (false when it is not a git work tree). */
  dirty: boolean;
}

const HEX_SHA = /^[0-9a-f]{7,64}$/;

/**
 * Resolves the commit the image is built from and the tags/labels that go with it. Sha source, in order: `explicitSha`
 * → the pull request's head commit (`GITHUB_EVENT_PATH`, when `GITHUB_EVENT_NAME` is `pull_request` /
 * `pull_request_target`; not GitHub's merge commit) → `GITHUB_SHA` → `git rev-parse HEAD`. The source URL comes from
 * `GITHUB_SERVER_URL/GITHUB_REPOSITORY` or `git remote get-url origin`, with any credentials stripped.
 * `org.opencontainers.image.created` is the commit time ({@link ResolvedTags.sourceDateEpoch}), never the wall clock.
 * @throws {TagResolutionError} when no sha is found or it is not hex (≥ 7 digits), or SOURCE_DATE_EPOCH is not a
 * whole number of seconds.
 * @throws {DirtyWorkTreeError} when `forPush` and the work tree is dirty, unless `allowDirty`.
 */
export async function resolveTags(options: ResolveTagsOptions = {}): Promise<ResolvedTags> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { sha, source } = await resolveSha(options.explicitSha, env, cwd);
  const shortSha = sha.slice(0, 7);

  const status = await git(cwd, ['status', '--porcelain']);
  const changes = status === undefined ? [] : status.split('\n').filter((line) => line.trim() !== '');
  const dirty = changes.length > 0;
  if (dirty && options.forPush && !options.allowDirty) throw new DirtyWorkTreeError(cwd, sha, changes);

  const sourceUrl = await resolveSourceUrl(env, cwd);
  const sourceDateEpoch = await resolveSourceDateEpoch(sha, env, cwd);
  const labels: ResolvedTags['labels'] = { 'org.opencontainers.image.revision': sha };
  if (sourceUrl) labels['org.opencontainers.image.source'] = sourceUrl;
  if (sourceDateEpoch !== undefined)
    labels['org.opencontainers.image.created'] = new Date(sourceDateEpoch * 1000).toISOString();
  return { sha, shortSha, shaSource: source, tags: [`sha-${shortSha}`], labels, dirty, sourceDateEpoch };
}

async function resolveSha(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ sha: string; source: ShaSource }> {
  if (explicit !== undefined) return { sha: validSha(explicit, 'explicit'), source: 'explicit' };
  const event = env.GITHUB_EVENT_NAME;
  if ((event === 'pull_request' || event === 'pull_request_target') && env.GITHUB_EVENT_PATH) {
    let payload: { pull_request?: { head?: { sha?: unknown } } };
    try {
      payload = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as typeof payload;
    } catch (error) {
      throw new TagResolutionError(
        `cannot read the GitHub event payload ${env.GITHUB_EVENT_PATH}: ${(error as Error).message}`,
        'pull_request',
        { cause: error },
      );
    }
    const head = payload.pull_request?.head?.sha;
    if (typeof head === 'string') return { sha: validSha(head, 'pull_request'), source: 'pull_request' };
  }
  if (env.GITHUB_SHA) return { sha: validSha(env.GITHUB_SHA, 'GITHUB_SHA'), source: 'GITHUB_SHA' };
  const head = await git(cwd, ['rev-parse', 'HEAD']);
  if (head === undefined) {
    throw new TagResolutionError(
      `no commit sha: ${cwd} is not a git work tree with commits (or git is missing), and neither an explicit sha nor GITHUB_SHA is set`,
      'git',
    );
  }
  return { sha: validSha(head.trim(), 'git'), source: 'git' };
}

function validSha(value: string, source: ShaSource): string {
  const sha = value.trim().toLowerCase();
  if (!HEX_SHA.test(sha)) {
    throw new TagResolutionError(`commit sha from ${source} is not 7-64 hex digits: "${value.slice(0, 80)}"`, source);
  }
  return sha;
}

async function resolveSourceUrl(env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  if (env.GITHUB_REPOSITORY) {
    const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
    return stripCredentials(`${server}/${env.GITHUB_REPOSITORY}`);
  }
  const origin = await git(cwd, ['remote', 'get-url', 'origin']);
  return origin ? normaliseRemoteUrl(origin.trim()) : undefined;
}

/**
 * A git remote as a browsable https URL without credentials: `https://user:tok@host/o/r.git` → `https://host/o/r`,
 * `git@host:o/r.git` → `https://host/o/r`. Anything else is returned with credentials stripped.
 */
export function normaliseRemoteUrl(remote: string): string | undefined {
  if (!remote) return undefined;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+?)(?:\.git)?\/?$/.exec(remote);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return `https://${scp[1]}/${scp[2]}`;
  const stripped = stripCredentials(remote);
  return stripped?.replace(/\.git\/?$/, '').replace(/^ssh:\/\/([^/]+?)(?::\d+)?\//, 'https://$1/');
}

function stripCredentials(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return undefined; // not a URL: better no source label than a leaked one
  }
}

/** `SOURCE_DATE_EPOCH`, else the commit time of `sha` from git, else from the GitHub push event; else undefined. */
async function resolveSourceDateEpoch(sha: string, env: NodeJS.ProcessEnv, cwd: string): Promise<number | undefined> {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv.trim()))
      throw new TagResolutionError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${fromEnv}"`, 'env');
    return Number(fromEnv.trim());
  }
  const fromGit = (await git(cwd, ['show', '-s', '--format=%ct', `${sha}^{commit}`]))?.trim();
  if (fromGit && /^\d+$/.test(fromGit)) return Number(fromGit);
  return pushEventCommitTime(sha, env);
}

/** A shallow CI checkout may lack the commit; a push event's payload names its time (`head_commit.timestamp`). */
async function pushEventCommitTime(sha: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  if (!env.GITHUB_EVENT_PATH) return undefined;
  try {
    const payload = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as {
      head_commit?: { id?: unknown; timestamp?: unknown };
    };
    const commit = payload.head_commit;
    if (commit?.id !== sha || typeof commit.timestamp !== 'string') return undefined;
    const ms = Date.parse(commit.timestamp);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
  } catch {
    return undefined;
  }
}

/** Runs git; `undefined` when git fails (not a repository, no commits, git missing). Never throws. */
async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('git', args, {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch {
    return undefined;
  }
}

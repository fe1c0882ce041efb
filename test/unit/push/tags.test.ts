import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirtyWorkTreeError, resolveTags, TagResolutionError } from '@4pass/builder/internal';
import { normaliseRemoteUrl } from '../../../packages/builder/src/push/tags.js';

const PR_HEAD = '0123456789abcdef0123456789abcdef01234567';
const MERGE_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
/** 2021-05-06T07:08:09Z: the test repository's one commit. */
const COMMIT_TIME = 1620284889;

let repo: string;
let notRepo: string;
let head: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
      GIT_COMMITTER_DATE: `@${COMMIT_TIME}`,
    },
  }).trim();
}

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), '4pass-tags-'));
  notRepo = await mkdtemp(join(tmpdir(), '4pass-notrepo-'));
  git(repo, 'init', '-q');
  await writeFile(join(repo, 'a.txt'), 'a\n');
  git(repo, 'add', 'a.txt');
  git(repo, 'commit', '-qm', 'init', `--date=@${COMMIT_TIME}`);
  git(repo, 'remote', 'add', 'origin', 'https://ci-bot:ghp_SeCrEtToKeN123@github.example.com/acme/widgets.git');
  head = git(repo, 'rev-parse', 'HEAD');
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(notRepo, { recursive: true, force: true });
});

describe('resolveTags: where the sha comes from', () => {
  it('uses git rev-parse HEAD and the origin remote without credentials; created is the commit time', async () => {
    const out = await resolveTags({ cwd: repo, env: {} });
    expect(out.sha).toBe(head);
    expect(out.shaSource).toBe('git');
    expect(out.shortSha).toBe(head.slice(0, 7));
    // Only the sha tag: a push never moves latest (a release does).
    expect(out.tags).toEqual([`sha-${head.slice(0, 7)}`]);
    expect(out.dirty).toBe(false);
    expect(out.labels).toEqual({
      'org.opencontainers.image.revision': head,
      'org.opencontainers.image.source': 'https://github.example.com/acme/widgets',
      'org.opencontainers.image.created': '2021-05-06T07:08:09.000Z',
    });
    expect(out.sourceDateEpoch).toBe(COMMIT_TIME);
    expect(JSON.stringify(out)).not.toContain('ghp_SeCrEtToKeN123');
    expect(JSON.stringify(out)).not.toContain('ci-bot');
  });

  it('prefers GITHUB_SHA over git, and GITHUB_SERVER_URL/GITHUB_REPOSITORY for the source', async () => {
    const out = await resolveTags({
      cwd: repo,
      env: { GITHUB_SHA: MERGE_SHA, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/widgets' },
    });
    expect(out.sha).toBe(MERGE_SHA);
    expect(out.shaSource).toBe('GITHUB_SHA');
    expect(out.labels['org.opencontainers.image.source']).toBe('https://github.com/acme/widgets');
  });

  it('on a pull request uses the head commit from GITHUB_EVENT_PATH, not the merge commit', async () => {
    const eventFile = join(notRepo, 'event.json');
    await writeFile(
      eventFile,
      JSON.stringify({ pull_request: { head: { sha: PR_HEAD }, merge_commit_sha: MERGE_SHA } }),
    );
    for (const name of ['pull_request', 'pull_request_target']) {
      const out = await resolveTags({
        cwd: notRepo,
        env: { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: eventFile, GITHUB_SHA: MERGE_SHA },
      });
      expect(out.sha).toBe(PR_HEAD);
      expect(out.shaSource).toBe('pull_request');
      expect(out.tags[0]).toBe('sha-0123456');
    }
    // A push event with the same file: GITHUB_SHA.
    const push = await resolveTags({
      cwd: notRepo,
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile, GITHUB_SHA: MERGE_SHA },
    });
    expect(push.sha).toBe(MERGE_SHA);
  });

  it('an explicit sha wins over everything and is normalised to lower case', async () => {
    const out = await resolveTags({ cwd: repo, explicitSha: 'ABCDEF1234', env: { GITHUB_SHA: MERGE_SHA } });
    expect(out).toMatchObject({
      sha: 'abcdef1234',
      shortSha: 'abcdef1',
      shaSource: 'explicit',
      tags: ['sha-abcdef1'],
    });
  });

  it('rejects a sha that is not hex or shorter than 7 digits', async () => {
    await expect(resolveTags({ cwd: repo, explicitSha: 'abc12' })).rejects.toThrow(TagResolutionError);
    await expect(resolveTags({ cwd: repo, explicitSha: 'not-a-sha' })).rejects.toThrow(/not 7-64 hex digits/);
    await expect(resolveTags({ cwd: repo, env: { GITHUB_SHA: 'zzzzzzzz' } })).rejects.toMatchObject({
      name: 'TagResolutionError',
      source: 'GITHUB_SHA',
    });
  });

  it('fails clearly outside a git work tree when nothing else gives a sha', async () => {
    const error = await resolveTags({ cwd: notRepo, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TagResolutionError);
    expect((error as Error).message).toMatch(/not a git work tree/);
  });

  it('uses SOURCE_DATE_EPOCH for the created label when set, and refuses one that is not whole seconds', async () => {
    const out = await resolveTags({ cwd: repo, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(out.labels['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20.000Z');
    expect(out.sourceDateEpoch).toBe(1700000000);
    await expect(resolveTags({ cwd: repo, env: { SOURCE_DATE_EPOCH: 'yesterday' } })).rejects.toMatchObject({
      name: 'TagResolutionError',
      message: 'SOURCE_DATE_EPOCH must be whole seconds since 1970, not "yesterday"',
    });
  });

  it('never uses the wall clock: the push event names the time of a commit git lacks; else no created label', async () => {
    const eventFile = join(notRepo, 'push-event.json');
    await writeFile(
      eventFile,
      JSON.stringify({ head_commit: { id: MERGE_SHA, timestamp: '2024-02-03T04:05:06+01:00' } }),
    );
    const push = await resolveTags({ cwd: notRepo, env: { GITHUB_SHA: MERGE_SHA, GITHUB_EVENT_PATH: eventFile } });
    expect(push.labels['org.opencontainers.image.created']).toBe('2024-02-03T03:05:06.000Z');
    const unknown = await resolveTags({ cwd: repo, explicitSha: PR_HEAD, env: {} });
    expect(unknown.sourceDateEpoch).toBeUndefined();
    expect(unknown.labels).not.toHaveProperty('org.opencontainers.image.created');
  });
});

describe('resolveTags: dirty work trees', () => {
  it('refuses a dirty tree for pushes, lists the changes, and allows it explicitly', async () => {
    await writeFile(join(repo, 'a.txt'), 'changed\n');
    await writeFile(join(repo, 'new.txt'), 'new\n');
    try {
      const error = await resolveTags({ cwd: repo, env: {}, forPush: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DirtyWorkTreeError);
      expect((error as DirtyWorkTreeError).changes).toEqual([' M a.txt', '?? new.txt']);
      expect((error as Error).message).toContain(`sha-${head.slice(0, 7)}`);
      expect((error as Error).message).toMatch(/allowDirty/);

      const allowed = await resolveTags({ cwd: repo, env: {}, forPush: true, allowDirty: true });
      expect(allowed.dirty).toBe(true);
      const notPushing = await resolveTags({ cwd: repo, env: {} });
      expect(notPushing.dirty).toBe(true);
    } finally {
      git(repo, 'checkout', '-q', '--', 'a.txt');
      await rm(join(repo, 'new.txt'));
    }
    expect((await resolveTags({ cwd: repo, env: {}, forPush: true })).dirty).toBe(false);
  });
});

describe('normaliseRemoteUrl', () => {
  it.each([
    ['https://user:tok@github.com/o/r.git', 'https://github.com/o/r'],
    ['https://x-access-token:abc@github.com/o/r', 'https://github.com/o/r'],
    ['git@github.com:o/r.git', 'https://github.com/o/r'],
    ['ssh://git@github.com/o/r.git', 'https://github.com/o/r'],
    ['https://gitlab.example.com/group/sub/r.git?token=abc', 'https://gitlab.example.com/group/sub/r'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseRemoteUrl(input)).toBe(expected);
  });
});

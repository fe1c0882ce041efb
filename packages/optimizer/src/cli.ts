#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OptimizerError, ProfileError } from './errors.js';
import { formatReport } from './format-report.js';
import { optimizeDirectory, readInventory } from './optimize-directory.js';
import { BUILTIN_AWS_SERVICES } from './aws-services.js';
import { parseProfile, type ProfileInput } from './profile.js';

const USAGE = `Usage: pnpm optimize DIR [options]

Slim a Python site-packages tree in place (a site-packages dir, a venv root, or a pip --target dir).

Options:
  --services a,b,c        AWS services to keep (default: ecs,secretsmanager,sts,logs,sqs)
  --remove a,b            distributions to remove (default: pip,setuptools,wheel,pygments; "" for none)
  --no-credential-services  do not keep sso, sso-oidc and signin
  --no-prune-endpoints    keep botocore's endpoints.json whole
  --dry-run               report what would be removed, change nothing
  --json FILE             also write the report as JSON to FILE
  -h, --help              show this help
`;

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Where the CLI writes. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Run `optimize DIR [options]`; resolves to the exit code (0 ok, 2 bad usage, profile or input). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        services: { type: 'string' },
        remove: { type: 'string' },
        'no-credential-services': { type: 'boolean' },
        'no-prune-endpoints': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`Expected exactly one directory, got ${positionals.length}.\n\n${USAGE}`);
    return 2;
  }
  const dir = positionals[0] as string;
  const input: ProfileInput = { aws: {} };
  if (values.services !== undefined) input.aws = { ...input.aws, services: list(values.services) };
  if (values['no-credential-services']) input.aws = { ...input.aws, keepCredentialServices: false };
  if (values['no-prune-endpoints']) input.aws = { ...input.aws, pruneEndpoints: false };
  if (values.remove !== undefined) input.remove = list(values.remove);
  try {
    // Validate service names against the botocore actually installed there when it can be read.
    const known = await readInventory(dir)
      .then((inv) => (inv.awsServices.length > 0 ? inv.awsServices : BUILTIN_AWS_SERVICES))
      .catch(() => BUILTIN_AWS_SERVICES);
    const profile = parseProfile(input, { knownServices: known });
    const report = await optimizeDirectory(dir, profile, { dryRun: values['dry-run'] ?? false });
    io.stdout(formatReport(report));
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof ProfileError) {
      io.stderr(`${err.message}\n`);
      return 2;
    }
    if (err instanceof OptimizerError) {
      io.stderr(`optimize: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) process.exitCode = await runCli(process.argv.slice(2));

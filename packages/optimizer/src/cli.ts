#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApplyError, OptimizerError, ProfileError } from './shared/errors.js';
import { formatReport } from './report/format-report.js';
import { optimizeDirectory, readInventory } from './optimize/optimize-directory.js';
import { BUILTIN_AWS_SERVICES } from './profile/aws-services.js';
import { prepareOutput, type PreparedOutput } from './report/output-file.js';
import { parseProfile, type ProfileInput } from './profile/profile.js';

/** Exit codes of the CLI (documented in its usage text and the README). */
export const EXIT = {
  ok: 0,
  /** An unexpected error: a bug. The message says what; no stack trace unless FOURPASS_DEBUG is set. */
  internal: 1,
  /** Bad usage or profile: nothing was changed. */
  usage: 2,
  /** The directory or an output path was refused, or the tree could not be read or planned: nothing was changed. */
  refused: 3,
  /** A change failed part-way: fix what the message names and run again to finish. */
  partial: 4,
} as const;

const USAGE = `Usage: pnpm optimize DIR [options]

Slim a Python environment in place: a virtual environment's root (pyvenv.cfg), a site-packages directory (or a
pip --target dir), or the root of an image layer holding one.

Options:
  --services a,b,c        AWS services to keep (default: ecs,secretsmanager,sts,logs,sqs)
  --remove a,b            distributions to remove (default: pip,setuptools,wheel,pygments; "" for none)
  --no-credential-services  do not keep sso, sso-oidc and signin
  --no-prune-endpoints    keep botocore's endpoints.json whole
  --dry-run               report what would be removed, change nothing
  --json FILE             also write the report as JSON to FILE (outside DIR; checked before anything changes)
  --allow-system          also slim a system directory (/, /usr, a Python installation prefix, a home directory)
  -h, --help              show this help

Exit codes:
  0  done (or dry run); RECORD entries left alone are listed under "Skipped"
  1  internal error (a bug)
  2  bad usage or profile; nothing was changed
  3  refused or unreadable: not an environment, a system directory, an unreadable or unwritable directory, a name
     that is not UTF-8, broken or oversized metadata, a bad --json path; nothing was changed
  4  a change failed part-way; fix what the message names and run again: it finishes what this run began
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      services: { type: 'string' },
      remove: { type: 'string' },
      'no-credential-services': { type: 'boolean' },
      'no-prune-endpoints': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'string' },
      'allow-system': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

function profileInput(values: Values): ProfileInput {
  const input: ProfileInput = { aws: {} };
  if (values.services !== undefined) input.aws = { ...input.aws, services: list(values.services) };
  if (values['no-credential-services']) input.aws = { ...input.aws, keepCredentialServices: false };
  if (values['no-prune-endpoints']) input.aws = { ...input.aws, pruneEndpoints: false };
  if (values.remove !== undefined) input.remove = list(values.remove);
  return input;
}

/** Plan, check (the --json path too), apply; the report goes to stdout and, when asked, to the JSON file. */
async function run(dir: string, values: Values, io: CliIo): Promise<number> {
  const allowSystem = values['allow-system'] ?? false;
  // Validate service names against the botocore actually installed there when it can be read.
  const known = await readInventory(dir, { allowSystem })
    .then((inv) => (inv.awsServices.length > 0 ? inv.awsServices : BUILTIN_AWS_SERVICES))
    .catch(() => BUILTIN_AWS_SERVICES);
  const profile = parseProfile(profileInput(values), { knownServices: known });
  let json: PreparedOutput | undefined;
  try {
    if (values.json !== undefined) json = await prepareOutput(values.json, dir);
    const report = await optimizeDirectory(dir, profile, { dryRun: values['dry-run'] ?? false, allowSystem });
    io.stdout(formatReport(report));
    await json?.commit(JSON.stringify(report, null, 2) + '\n');
    return EXIT.ok;
  } finally {
    await json?.abort();
  }
}

/** The exit code and message of an error (never a stack trace, unless FOURPASS_DEBUG is set). */
function failure(err: unknown, io: CliIo): number {
  if (err instanceof ProfileError) {
    io.stderr(`${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof OptimizerError) {
    io.stderr(`optimize: ${err.message}\n`);
    return err instanceof ApplyError ? EXIT.partial : EXIT.refused;
  }
  const detail = process.env.FOURPASS_DEBUG && err instanceof Error ? `\n${err.stack}` : '';
  io.stderr(`optimize: internal error: ${err instanceof Error ? err.message : String(err)}${detail}\n`);
  return EXIT.internal;
}

/** Run `optimize DIR [options]`; resolves to the exit code ({@link EXIT}), never rejects. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    io.stderr(`Expected exactly one directory, got ${positionals.length}.\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await run(positionals[0] as string, values, io);
  } catch (err) {
    return failure(err, io);
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) process.exitCode = await runCli(process.argv.slice(2));

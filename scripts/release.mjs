#!/usr/bin/env zx
// pnpm release — promotes a gated sha image to latest in the registry. Thin: parses flags, calls @4pass/builder's
// releaseImages, renders its events and report, sets the exit code (releaseExitCode).
import { appendFile, writeFile } from 'node:fs/promises';
import { parseCommandLine } from './command-line.mjs';
// Only the config module at first: flags, the config file and the registry settings are checked (exit 2) before the
// library with its AWS adapter is even loaded.
import { DEFAULT_CONFIG_FILE, loadConfig, resolveRegistryDestination } from '@4pass/builder/config';

const EXIT = { ok: 0, refused: 1, usage: 2, failure: 3 };
const HELP = `Usage: pnpm release --from sha-<7> [options]

Releases the image pushed as sha-<7> (by pnpm build:images --push on main) of every image of images.config.json:
reads the gate report and the SBOM stored next to exactly that image in the registry and refuses unless both are
there and describe that image, and the gate passed; then points latest at the image's manifest in the registry (no rebuild, no pull, no layer
pushed), verifies it, and records the release (who, when, which commit, which report) next to the image. If any image
is refused, nothing moves. Releasing an older sha is a rollback, and the report says so; releasing the sha latest
already names moves nothing.

Options:
  --from sha-<7>       the gated tag to release (required)
  --only NAME          release only this image; repeat for several
  --registry HOST      the registry HOST[:PORT] instead of the configured one (keeps each repository name);
                       credentials from REGISTRY_USERNAME / REGISTRY_PASSWORD, or ECR tokens for ECR hosts
  --password-stdin     read the registry password from standard input
  --config FILE        config file (default ${DEFAULT_CONFIG_FILE})
  --json FILE          write the JSON report (type ReleaseReport in @4pass/builder; each image's digest-pinned reference)
  --markdown FILE      write the Markdown summary (also appended to $GITHUB_STEP_SUMMARY when that is set)
  -h, --help           this text

Exit codes: 0 released (or already released) · 1 refused: nothing moved · 2 bad usage or config · 3 a registry error`;

const VALUE_FLAGS = ['from', 'only', 'registry', 'config', 'json', 'markdown'];
const BOOLEAN_FLAGS = ['password-stdin', 'help'];
const { args, fail } = parseCommandLine({
  command: 'release',
  help: HELP,
  valueFlags: VALUE_FLAGS,
  booleanFlags: BOOLEAN_FLAGS,
});
for (const flag of VALUE_FLAGS.filter((f) => f !== 'only'))
  if (Array.isArray(args[flag])) fail(EXIT.usage, `--${flag} may be given once`);
if (args.from === undefined) fail(EXIT.usage, '--from sha-<7> is required (see --help)');
if (!/^sha-[0-9a-f]{7}$/.test(args.from)) fail(EXIT.usage, `--from ${args.from}: expected sha-<7 hex digits>`);

let config;
let registry;
try {
  config = await loadConfig(args.config ?? DEFAULT_CONFIG_FILE);
  registry = args.registry ? { host: args.registry } : config.registry;
  resolveRegistryDestination(registry);
} catch (error) {
  fail(EXIT.usage, error.message);
}

const {
  RegistrySettingsError,
  InvalidRepositoryError,
  registryAuthFromStdin,
  releaseExitCode,
  releaseImages,
  renderReleaseMarkdown,
  renderReleaseText,
  resolveRegistryHost,
} = await import('@4pass/builder');

const log = (s) => process.stderr.write(`${s}\n`);
const short = (digest) => digest?.slice(0, 19) ?? '-';
/** One line per event; the report says the rest. */
function onEvent(event) {
  if (event.type === 'checked') {
    const failed = event.checks.filter((c) => c.status === 'fail').map((c) => c.message);
    const verdict = event.refused ? `REFUSED: ${failed.join('; ')}` : `ok${event.rollback ? ' (a rollback)' : ''}`;
    log(`${event.image}: ${event.repository}:${event.from} = ${short(event.digest)}: ${verdict}`);
  } else if (event.type === 'tag-pointed') log(`${event.image}: pointed ${event.tag} → ${event.digest}`);
  else if (event.type === 'unchanged') log(`${event.image}: ${event.tag} already names ${event.digest}: nothing moved`);
  else if (event.type === 'recorded') log(`${event.image}: release recorded as ${event.tag}`);
  else if (event.type === 'retry')
    log(`${event.image}: ${event.operation}: retry ${event.attempt} in ${event.delayMs} ms (${event.reason})`);
}

// SIGINT / SIGTERM stop at the next registry request: exit 130 / 143, the report says what moved (usually nothing).
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };
const controller = new AbortController();
let interrupted;
for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
  process.on(signal, () => {
    if (interrupted) process.exit(interrupted);
    interrupted = code;
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

let report;
try {
  report = await releaseImages({
    config,
    from: args.from,
    only: args.only === undefined ? undefined : [args.only].flat(),
    registry,
    ...(args['password-stdin'] && { auth: await registryAuthFromStdin(resolveRegistryHost(registry)) }),
    signal: controller.signal,
    onEvent,
  });
} catch (error) {
  if (interrupted) fail(interrupted, 'interrupted: see the registry for what moved (latest moves last)');
  if ([RegistrySettingsError, InvalidRepositoryError, RangeError].some((type) => error instanceof type))
    fail(EXIT.usage, error.message);
  fail(EXIT.failure, error.message);
}

process.stdout.write(`\n${renderReleaseText(report)}`);
const markdown = renderReleaseMarkdown(report);
if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
if (args.markdown) await writeFile(args.markdown, markdown);
if (process.env.GITHUB_STEP_SUMMARY && args.markdown !== process.env.GITHUB_STEP_SUMMARY)
  await appendFile(process.env.GITHUB_STEP_SUMMARY, markdown);
process.exitCode = releaseExitCode(report);

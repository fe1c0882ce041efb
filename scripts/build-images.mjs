#!/usr/bin/env zx
// pnpm build:images — build, gate (and push) the images of images.config.json. Thin: parses flags, calls
// @4pass/builder's runImages, renders its events and report, sets the exit code.
import { appendFile, writeFile } from 'node:fs/promises';
import { minimist } from 'zx';
import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  DirtyWorkTreeError,
  connectEngine,
  createRenderer,
  gateExitCode,
  loadConfig,
  loadGateReport,
  openLayerSizeCache,
  registryAuthFromStdin,
  renderJUnitReport,
  renderMarkdownReport,
  renderTextReport,
  resolveRegistryHost,
  runImages,
} from '@4pass/builder';

const EXIT = { ok: 0, budget: 1, usage: 2, failure: 3 };
const HELP = `Usage: pnpm build:images [options]

Builds every image of images.config.json through the Docker Engine API (BuildKit), measures it (size, compressed
size, layers, per-path sizes, layer waste, container start → ready) and checks its budgets and structure.

Options:
  --config FILE        config file (default ${DEFAULT_CONFIG_FILE})
  --only NAME          build only this image; repeat for several
  --json FILE          write the JSON report (schemaVersion 2; type GateReport in @4pass/builder)
  --markdown FILE      write the Markdown summary (also appended to $GITHUB_STEP_SUMMARY when that is set)
  --junit FILE         write JUnit XML (each check a test case)
  --baseline FILE      diff against an earlier JSON report; growth beyond the "growth" budget is a rule
  --no-budget          build and report sizes only: no startup runs, no budget or structure checks
  --no-cache           build without the build cache
  --push               after the gate passed, push sha-<7> and latest (latest only after the sha tag is verified)
  --registry HOST      push to HOST[:PORT] instead of the configured registry (keeps each repository name);
                       credentials from REGISTRY_USERNAME / REGISTRY_PASSWORD, or ECR tokens for ECR hosts
  --password-stdin     read the registry password from standard input
  --sha SHA            commit for the sha tag (default: PR head, GITHUB_SHA, git HEAD)
  --allow-dirty        allow --push from a work tree with uncommitted changes
  --progress MODE      auto | plain | tty (default auto: live view on a terminal)
  -h, --help           this text

Exit codes: 0 all budgets pass · 1 a budget failed · 2 bad usage or config · 3 a build, engine or registry error`;

const known = new Set([
  '_',
  'config',
  'only',
  'json',
  'markdown',
  'junit',
  'baseline',
  'budget',
  'cache',
  'push',
  'registry',
  'password-stdin',
  'sha',
  'allow-dirty',
  'progress',
  'help',
  'h',
]);
const args = minimist(process.argv.slice(3), {
  string: ['config', 'only', 'json', 'markdown', 'junit', 'baseline', 'registry', 'sha', 'progress'],
  boolean: ['budget', 'cache', 'push', 'password-stdin', 'allow-dirty', 'help'],
  alias: { h: 'help' },
  default: { budget: true, cache: true },
});
const fail = (code, message) => {
  process.stderr.write(`build:images: ${message}\n`);
  process.exit(code);
};
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(EXIT.ok);
}
const unknownFlags = Object.keys(args).filter((k) => !known.has(k));
if (unknownFlags.length || args._.length)
  fail(EXIT.usage, `unknown option ${[...unknownFlags.map((f) => `--${f}`), ...args._].join(', ')} (see --help)`);
if (args.progress && !['auto', 'plain', 'tty'].includes(args.progress))
  fail(EXIT.usage, `--progress must be auto, plain or tty`);
if (args.registry !== undefined && !args.push) fail(EXIT.usage, '--registry only makes sense with --push');

const err = process.stderr;
const color = err.isTTY === true;
const bold = (s) => (color ? `\x1b[1m${s}\x1b[22m` : s);
const log = (s) => err.write(`${s}\n`);

let config;
let baseline;
try {
  config = await loadConfig(args.config ?? DEFAULT_CONFIG_FILE);
  if (args.baseline) baseline = await loadGateReport(args.baseline);
} catch (error) {
  fail(EXIT.usage, error.message);
}

const controller = new AbortController();
process.once('SIGINT', () => {
  log('\ninterrupted: canceling the build on the engine and cleaning up…');
  controller.abort(new Error('interrupted'));
  process.once('SIGINT', () => process.exit(130));
});

let renderer;
const newRenderer = () => (renderer = createRenderer(err, { mode: args.progress ?? 'auto' }));
const onEvent = (e) => {
  switch (e.type) {
    case 'tags':
      log(`tags: ${e.tags.join(', ')}${e.warning ? ` (${e.warning})` : ''}`);
      break;
    case 'image-started':
      log(bold(`\n==> ${e.image}`));
      break;
    case 'stage-started':
      if (e.stage === 'build') newRenderer();
      log(`--> ${e.image}: ${e.stage}`);
      break;
    case 'stage-done':
      log(`--> ${e.image}: ${e.stage} done in ${(e.durationMs / 1000).toFixed(1)}s${e.detail ? `: ${e.detail}` : ''}`);
      break;
    case 'build':
      renderer?.(e.event);
      break;
    case 'worker':
      if (e.event.type === 'stage-started') {
        if (e.event.stage === 'builder' || e.event.stage === 'runtime') newRenderer();
        log(`    ${e.image}/${e.event.stage}…`);
      } else if (e.event.type === 'stage-done') {
        log(
          `    ${e.image}/${e.event.stage} done in ${(e.event.durationMs / 1000).toFixed(1)}s${e.event.detail ? `: ${e.event.detail}` : ''}`,
        );
      } else {
        renderer?.(e.event.event);
      }
      break;
    case 'push':
      if (e.event.type === 'tag-pushed' || e.event.type === 'tag-pointed')
        log(`    pushed ${e.event.tag} → ${e.event.digest}`);
      else if (e.event.type === 'retry')
        log(`    retrying ${e.event.operation} in ${e.event.delayMs} ms: ${e.event.reason}`);
      break;
    case 'image-failed':
      log(`--> ${e.image}: ${e.stage} FAILED\n${e.error.message}`);
      break;
    case 'push-skipped':
      log(`push skipped: ${e.reason}`);
      break;
  }
};

// Compressed sizes of layers already measured (content-addressed keys), so unchanged base layers are not gzipped again.
const layerSizeCache = await openLayerSizeCache('.image-reports/layer-sizes.json');
let result;
try {
  const engine = await connectEngine();
  const push = args.push
    ? {
        ...(args.registry && { registry: { host: args.registry } }),
        ...(args['password-stdin'] && {
          auth: await registryAuthFromStdin(
            resolveRegistryHost(args.registry ? { host: args.registry } : config.registry),
          ),
        }),
        allowDirty: args['allow-dirty'],
      }
    : undefined;
  result = await runImages({
    engine,
    config,
    only: args.only === undefined ? undefined : [args.only].flat(),
    budgets: args.budget,
    baseline,
    baselineSource: args.baseline,
    push,
    sha: args.sha,
    noCache: !args.cache,
    layerSizeCache,
    signal: controller.signal,
    onEvent,
  });
} catch (error) {
  if (controller.signal.aborted) fail(130, 'interrupted; nothing left running');
  if (error instanceof ConfigError || error instanceof DirtyWorkTreeError || error instanceof RangeError)
    fail(EXIT.usage, error.message);
  fail(EXIT.failure, error.message);
}

await layerSizeCache.save();
const { report } = result;
process.stdout.write(`\n${renderTextReport(report, { color: process.stdout.isTTY === true })}\n`);
const markdown = renderMarkdownReport(report);
if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
if (args.markdown) await writeFile(args.markdown, markdown);
if (args.junit) await writeFile(args.junit, renderJUnitReport(report));
if (process.env.GITHUB_STEP_SUMMARY && args.markdown !== process.env.GITHUB_STEP_SUMMARY)
  await appendFile(process.env.GITHUB_STEP_SUMMARY, markdown);
process.exitCode = gateExitCode(report);

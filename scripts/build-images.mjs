#!/usr/bin/env zx
// pnpm build:images — build, gate (and push) the images of images.config.json. Thin: parses flags, calls
// @4pass/builder's runImages, renders its events and report, sets the exit code.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine } from './command-line.mjs';
// Only the config module at first: flags, the config file and the push settings are checked (exit 2) before the
// library with its engine and AWS adapters is even loaded, so a usage error answers at once.
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  parseEngineSpecs,
  resolveRegistryDestination,
  withCacheOverrides,
} from '@4pass/builder/config';

const EXIT = { usage: 2 };
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
  --baseline-image REF diff against REF (e.g. latest) of each image's repository in the registry, without pulling
                       it; the report a push stored with it is used as is
  --html FILE          write one self-contained HTML page: size treemaps, import profiles, the baseline diff
  --sbom DIR           write each image's SBOM (CycloneDX 1.6 JSON, validated) as DIR/<image>.cdx.json
  --no-budget          build and report sizes only: no startup runs, no budget or structure checks
  --no-cache           build without the build cache
  --remeasure          measure every image anew (by default an image id measured before — its facts, start-up
                       runs and smoke run, kept in .image-reports/measurements/ — is not exported or started again)
  --push               after the gate passed, push sha-<7> of every image (verified), its SBOM and gate report
                       beside it and the build cache (--cache-to); never latest: only pnpm release moves it
  --registry HOST      push to HOST[:PORT] instead of the configured registry (keeps each repository name);
                       credentials from REGISTRY_USERNAME / REGISTRY_PASSWORD, or ECR tokens for ECR hosts
  --password-stdin     read the registry password from standard input
  --sha SHA            commit for the sha tag (default: PR head, GITHUB_SHA, git HEAD)
  --allow-dirty        allow --push from a work tree with uncommitted changes
  --cache-from PREFIX  read BuildKit's inline cache from PREFIX/<image>:<stage> (e.g. 127.0.0.1:5000/4pass/cache)
  --cache-to PREFIX    write it there too: every built stage is tagged PREFIX/<image>:<stage>, pushed with --push
                       (both replace the config's "cache"; with --push the cache goes to the same registry login)
  --engine NAME=ADDR   build on this engine (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh://);
                       repeat for a pool: images are spread over the engines, each measured where it was built.
                       Replaces the config's "engines"; default: DOCKER_HOST, the docker context, the local socket
  --progress MODE      auto | plain | tty (default auto: live view on a terminal)
  -h, --help           this text

Exit codes: 0 all budgets pass · 1 a budget failed · 2 bad usage or config · 3 a build, engine or registry error`;

// Flags that take a value (--only, --engine and --cache-from may be repeated: minimist gives an array); the rest are
// switches.
const VALUE_FLAGS = [
  'config',
  'only',
  'json',
  'markdown',
  'junit',
  'html',
  'sbom',
  'baseline',
  'baseline-image',
  'registry',
  'sha',
  'progress',
  'engine',
  'cache-from',
  'cache-to',
];
const BOOLEAN_FLAGS = ['budget', 'cache', 'remeasure', 'push', 'password-stdin', 'allow-dirty', 'help'];
const { args, fail } = parseCommandLine({
  command: 'build:images',
  help: HELP,
  valueFlags: VALUE_FLAGS,
  booleanFlags: BOOLEAN_FLAGS,
  defaults: { budget: true, cache: true },
});
if (args.progress && !['auto', 'plain', 'tty'].includes(args.progress))
  fail(EXIT.usage, `--progress must be auto, plain or tty`);
if (args.registry !== undefined && !args.push && !args['baseline-image'])
  fail(EXIT.usage, '--registry only makes sense with --push or --baseline-image');
let engineFlags = [];
try {
  engineFlags = parseEngineSpecs([args.engine ?? []].flat());
} catch (error) {
  fail(EXIT.usage, error.message);
}

const log = (s) => process.stderr.write(`${s}\n`);

// SIGINT (Ctrl-C) and SIGTERM (how CI cancels a job) stop every stage at its next step; the library removes what it
// started. Exit 128 + signal number: 130 / 143. A second signal leaves at once.
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };
const controller = new AbortController();
let interrupted;
for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
  process.on(signal, () => {
    if (interrupted) process.exit(interrupted.code);
    interrupted = { signal, code };
    log(`\n${signal}: stopping at the next step and cleaning up (again to leave at once)…`);
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

let config;
let registry;
try {
  config = await loadConfig(args.config ?? DEFAULT_CONFIG_FILE);
  // Push settings are checked before anything is built (or the engine is even asked).
  registry = args.registry ? { host: args.registry } : config.registry;
  if (args.push) resolveRegistryDestination(registry);
} catch (error) {
  fail(EXIT.usage, error.message);
}

const {
  connectEngine,
  connectEngines,
  createPipelineRenderer,
  loadGateReport,
  openLayerSizeCache,
  openMeasurementCache,
  registryAuthFromStdin,
  renderJUnitReport,
  renderHtmlReport,
  renderMarkdownReport,
  renderTextReport,
  resolveRegistryHost,
  runExit,
  runImages,
  validateSbom,
} = await import('@4pass/builder');
let baseline;
try {
  if (args.baseline) baseline = await loadGateReport(args.baseline);
} catch (error) {
  fail(EXIT.usage, error.message);
}

// Compressed sizes of layers already measured (content-addressed keys), so unchanged base layers are not gzipped again.
const layerSizeCache = await openLayerSizeCache('.image-reports/layer-sizes.json');
let result;
try {
  const push = args.push
    ? {
        ...(args.registry && { registry }),
        ...(args['password-stdin'] && { auth: await registryAuthFromStdin(resolveRegistryHost(registry)) }),
        allowDirty: args['allow-dirty'],
      }
    : undefined;
  config = withCacheOverrides(config, { from: [args['cache-from'] ?? []].flat(), to: args['cache-to'] });
  const connect = { requestTimeoutMs: config.network.requestTimeout };
  const specs = engineFlags.length
    ? engineFlags
    : (config.engines ?? []).map((e, i) => ({ ...e, source: `${args.config ?? DEFAULT_CONFIG_FILE} engines[${i}]` }));
  result = await runImages({
    ...(specs.length ? { engines: connectEngines(specs, connect) } : { engine: await connectEngine(connect) }),
    config: args.registry && !args.push ? { ...config, registry } : config,
    only: args.only === undefined ? undefined : [args.only].flat(),
    budgets: args.budget,
    baseline,
    baselineSource: args.baseline,
    baselineImage: args['baseline-image'],
    push,
    sha: args.sha,
    noCache: !args.cache,
    layerSizeCache,
    measurements: openMeasurementCache('.image-reports/measurements'),
    remeasure: args.remeasure === true,
    signal: controller.signal,
    onEvent: createPipelineRenderer(process.stderr, { mode: args.progress ?? 'auto' }),
  });
} catch (error) {
  const exit = runExit({ error, signal: interrupted?.signal });
  fail(exit.code, exit.messages.join('\n'));
}

await layerSizeCache.save();
// The reports are written whatever happened after the gate: a failed or interrupted push is in them (each image's
// `push`), and so is the gate's verdict.
const { report } = result;
process.stdout.write(`\n${renderTextReport(report, { color: process.stdout.isTTY === true })}\n`);
const markdown = renderMarkdownReport(report);
if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
if (args.markdown) await writeFile(args.markdown, markdown);
if (args.junit) await writeFile(args.junit, renderJUnitReport(report));
if (args.html) await writeFile(args.html, renderHtmlReport(report));
if (args.sbom) {
  await mkdir(args.sbom, { recursive: true });
  for (const [image, bom] of Object.entries(result.sboms)) {
    try {
      await validateSbom(bom, image);
    } catch (error) {
      fail(EXIT.failure, error.message);
    }
    await writeFile(join(args.sbom, `${image}.cdx.json`), `${JSON.stringify(bom, null, 2)}\n`);
  }
}
if (process.env.GITHUB_STEP_SUMMARY && args.markdown !== process.env.GITHUB_STEP_SUMMARY)
  await appendFile(process.env.GITHUB_STEP_SUMMARY, markdown);
const exit = runExit({ result, signal: interrupted?.signal });
for (const message of exit.messages) log(`build:images: ${message}`);
if (exit.code >= 128) process.exit(exit.code); // interrupted: leave now, the reports are written
process.exitCode = exit.code;

#!/usr/bin/env zx
// pnpm bench build, two parts (--parts fixture,pipeline; default both):
//   fixture   the same Dockerfile built by @4pass/builder and by the Debian Docker CLI (DOCKER_BUILDKIT=1
//             /usr/bin/docker build), cold (no cache) and warm (no change), alternating who goes first, printing medians
//             and the library/CLI ratio. Options: --runs N (default 5), --context DIR, --dockerfile FILE.
//   pipeline  both example images through the gate: the no-change rebuild, a one-line change to the image's code and
//             the whole warm `pnpm build:images` (scripts/bench-build-pipeline.mjs); --baseline-ref REV measures that
//             revision's `pnpm build:images` beside ours.
import { $, argv, fs, path } from 'zx';
import { performance } from 'node:perf_hooks';
import { buildImage, connectEngine } from '@4pass/builder';
import { benchPipeline } from './bench-build-pipeline.mjs';

const root = path.resolve(import.meta.dirname, '..');
const runs = Number(argv.runs ?? 5);
const contextDir = path.resolve(argv.context ?? path.join(root, 'test/fixtures/contexts/bench-app'));
const dockerfile = path.resolve(argv.dockerfile ?? path.join(contextDir, 'Dockerfile'));
const cli = argv.cli ?? '/usr/bin/docker';
const base = argv.base ?? '4pass-local/python:3.11-slim';
const buildArgs = { PYTHON_IMAGE: base }; // same inputs for both builders
const repo = `4pass-bench/build-${Date.now().toString(36)}`;
const parts = String(argv.parts ?? 'fixture,pipeline').split(',');

if (!(await fs.pathExists(cli))) {
  console.error(`bench build: the Docker CLI ${cli} is missing (Debian: apt-get install docker.io)`);
  process.exit(2);
}
const engine = await connectEngine();

async function library(mode) {
  const start = performance.now();
  await buildImage({ engine, contextDir, dockerfile, tags: [`${repo}:lib`], buildArgs, noCache: mode === 'cold' });
  return performance.now() - start;
}
async function dockerCli(mode) {
  const flags = ['build', '-q', '-t', `${repo}:cli`, '-f', dockerfile, '--build-arg', `PYTHON_IMAGE=${base}`];
  if (mode === 'cold') flags.push('--no-cache');
  const start = performance.now();
  await $({ env: { ...process.env, DOCKER_BUILDKIT: '1' }, quiet: true })`${cli} ${flags} ${contextDir}`;
  return performance.now() - start;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const times = { cold: { lib: [], cli: [] }, warm: { lib: [], cli: [] } };
let exitCode = 0;
try {
  if (parts.includes('fixture')) await benchFixture();
  if (parts.includes('pipeline')) {
    const rows = await benchPipeline({ root, runs: Number(argv.runs ?? 3), cli, baselineRef: argv['baseline-ref'] });
    printPipeline(rows);
  }
} catch (error) {
  console.error(`bench build failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  for (const tag of ['lib', 'cli']) await engine.removeImage(`${repo}:${tag}`, { force: true }).catch(() => undefined);
}
process.exitCode = exitCode;

function printPipeline(rows) {
  const header = ['what', 'ours', 'compared with', 'ratio', 'target', 'met', 'samples (s)'];
  const cells = rows.map((r) => [r.what, r.ours, r.other, r.ratio, r.target, r.met, r.samples]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  console.log('\nbench build (pipeline): medians over alternating rounds');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function benchFixture() {
  // Warm-up: one build each so the base image and the daemon's caches are hot for both.
  await library('warm');
  await dockerCli('warm');
  for (let i = 0; i < runs; i++) {
    for (const mode of ['cold', 'warm']) {
      const order = i % 2 === 0 ? ['lib', 'cli'] : ['cli', 'lib'];
      for (const who of order) {
        const ms = who === 'lib' ? await library(mode) : await dockerCli(mode);
        times[mode][who].push(ms);
      }
    }
    process.stderr.write(`run ${i + 1}/${runs} done\n`);
  }
  const rows = ['cold', 'warm'].map((mode) => {
    const lib = median(times[mode].lib);
    const c = median(times[mode].cli);
    return { mode, lib, cli: c, ratio: lib / c };
  });
  console.log(
    `\nbench build: ${path.relative(root, dockerfile)} (context ${path.relative(root, contextDir) || '.'}), ${runs} runs each, alternating`,
  );
  console.log('mode  | library median | docker CLI median | library/CLI');
  console.log('------|----------------|-------------------|------------');
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(5)} | ${`${r.lib.toFixed(0)} ms`.padStart(14)} | ${`${r.cli.toFixed(0)} ms`.padStart(17)} | ${r.ratio.toFixed(3).padStart(11)}`,
    );
  }
  for (const mode of ['cold', 'warm']) {
    console.log(
      `${mode} samples (ms): library ${times[mode].lib.map((x) => x.toFixed(0)).join(' ')} | cli ${times[mode].cli.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
  const worst = Math.max(...rows.map((r) => r.ratio));
  console.log(
    worst <= 1.05 ? 'target met: ratio ≤ 1.05 cold and warm' : `target missed: worst ratio ${worst.toFixed(3)} > 1.05`,
  );
}

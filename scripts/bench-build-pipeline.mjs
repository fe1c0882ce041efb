// The pipeline half of `pnpm bench build` (issue 21's targets), side by side in one run, medians over alternating
// rounds, for both example images:
//   no-change rebuild   the build phase of `runImages` (every stage from BuildKit's cache; inspection, start-up and
//                       smoke reused by image id) vs `docker build` of the same Dockerfile, fully cached — target ≤ 2 s;
//   one-line change     a new line in the image's own code, then the build phase vs `docker build` of the same
//                       Dockerfile on the same kind of change (each builder gets its own line, so neither reuses the
//                       other's layers) — target ≤ 1.3 × docker build;
//   whole warm run      `pnpm build:images` end to end with nothing changed, start-up runs included — and, with
//                       `--baseline-ref REV`, the same command of that revision (a worktree made here) — target ≤ 0.5 ×.
// Everything runs on a copy of examples/ (with the optimizer's `.4pass/` files in it, so the Docker CLI builds the
// same Dockerfile); every image and worktree made here is removed at the end.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { $, path } from 'zx';
import {
  connectEngine,
  createMemoryMeasurementCache,
  loadConfig,
  optimizerStageFiles,
  runImages,
} from '@4pass/builder/internal';
import { parseProfile } from '@4pass/optimizer';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const log = (line) => process.stderr.write(`${line}\n`);
const APP_FILE = { api: 'api/app/main.py', worker: 'worker/worker/__main__.py' };

/** Runs the pipeline part; returns the table rows. */
export async function benchPipeline({ root, runs, cli, baselineRef }) {
  const id = `p${Date.now().toString(36)}`;
  const work = await mkdtemp(path.join(tmpdir(), '4pass-bench-pipeline-'));
  const context = path.join(work, 'examples');
  const engine = await connectEngine();
  const config = await benchConfig(root, context, id);
  const rows = [];
  try {
    await copyContext(root, context, config);
    const measurements = createMemoryMeasurementCache();
    const gate = async (only) => runImages({ engine, config, only: [only], measurements, onEvent: () => undefined });
    for (const image of config.images) {
      const args = await buildArgs(engine, image);
      await gate(image.name); // warm-up: everything built, measured and remembered once
      await dockerBuild(cli, image, context, args, `${id}-${image.name}`);
      const noChange = { lib: [], cli: [] };
      const change = { lib: [], cli: [] };
      for (let i = 0; i < runs; i++) {
        for (const who of i % 2 ? ['cli', 'lib'] : ['lib', 'cli']) {
          noChange[who].push(
            who === 'lib'
              ? buildMs(await gate(image.name), image.name)
              : await dockerBuild(cli, image, context, args, `${id}-${image.name}`),
          );
          await appendLine(context, image.name, `${id} ${who} ${i}`);
          change[who].push(
            who === 'lib'
              ? buildMs(await gate(image.name), image.name)
              : await dockerBuild(cli, image, context, args, `${id}-${image.name}`),
          );
        }
        log(`bench build (pipeline): ${image.name} round ${i + 1}/${runs}`);
      }
      rows.push(row(`${image.name}: no-change rebuild (build phase)`, noChange, { absolute: 2000 }));
      // The target is the worker's; the API's row is reported beside it (its build phase includes the smoke run
      // in a started container, which `docker build` does not do).
      const target = image.name === 'worker' ? { ratio: 1.3 } : {};
      rows.push(row(`${image.name}: one-line change to its code (build phase, smoke run included)`, change, target));
    }
    rows.push(...(await wholeRuns({ root, runs, baselineRef, work })));
  } finally {
    for (const image of config.images) {
      for (const ref of [...(image.tags ?? []).map((t) => `${image.repository}:${t}`), `${id}-${image.name}:cli`]) {
        await engine.removeImage(ref, { force: true }).catch(() => undefined);
      }
    }
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

/** The project's config with the images under this bench's names, built from the copy of examples/. */
async function benchConfig(root, context, id) {
  const loaded = await loadConfig(path.join(root, 'images.config.json'));
  const images = loaded.images.map((image) => ({
    ...image,
    context,
    sourceDir: path.join(context, path.relative(path.join(root, 'examples'), image.sourceDir)),
    repository: `4pass-bench/${id}-${image.name}`,
    tags: ['bench'],
  }));
  return { ...loaded, images };
}

async function copyContext(root, context, config) {
  await cp(path.join(root, 'examples'), context, {
    recursive: true,
    filter: (src) => !src.includes('node_modules') && !src.includes(`${path.sep}web${path.sep}dist`),
  });
  // The optimizer's files where the Dockerfiles read them, for the Docker CLI (the library adds its own).
  const profile = parseProfile(config.images.find((i) => i.name === 'worker').optimizer ?? {});
  for (const file of await optimizerStageFiles(profile)) {
    await mkdir(path.dirname(path.join(context, file.path)), { recursive: true });
    await writeFile(path.join(context, file.path), file.content);
  }
}

/** The base images the library resolved for this image (official names where the engine has them, else stand-ins). */
async function buildArgs(engine, image) {
  const args = { ...image.buildArgs };
  for (const [arg, official, standIn] of [
    ['PYTHON_IMAGE', 'python:3.11-slim', '4pass-local/python:3.11-slim'],
    ['NODE_IMAGE', 'node:20-slim', '4pass-local/node:20-slim'],
  ]) {
    args[arg] ??= (await engine.inspectImage(official)) ? official : standIn;
  }
  return args;
}

async function dockerBuild(cli, image, context, args, repo) {
  const flags = ['build', '-q', '-t', `${repo}:cli`, '-f', image.dockerfile, '--target', image.target ?? 'runtime'];
  for (const [k, v] of Object.entries(args)) flags.push('--build-arg', `${k}=${v}`);
  // The CLI reads the optimizer's profile from the context too: the worker's; the API's differs, so write it first.
  await writeFile(
    path.join(context, '.4pass/profile.json'),
    `${JSON.stringify(parseProfile(image.optimizer ?? {}), null, 2)}\n`,
  );
  const start = performance.now();
  await $({ env: { ...process.env, DOCKER_BUILDKIT: '1' }, quiet: true })`${cli} ${flags} ${context}`;
  return performance.now() - start;
}

const buildMs = (result, name) => {
  const report = result.report.images.find((i) => i.name === name);
  if (!report) throw new Error(`${name}: ${JSON.stringify(result.report.errors)}`);
  return report.durations?.build ?? NaN;
};

async function appendLine(context, image, marker) {
  const file = path.join(context, APP_FILE[image]);
  await writeFile(file, `${await readFile(file, 'utf8')}\n# bench ${marker}\n`);
}

function row(what, samples, target) {
  const lib = median(samples.lib);
  const cli = median(samples.cli);
  const met =
    target.absolute !== undefined
      ? lib <= target.absolute
      : target.ratio !== undefined
        ? lib / cli <= target.ratio
        : undefined;
  return {
    what,
    ours: seconds(lib),
    other: `docker build ${seconds(cli)}`,
    ratio: `${(lib / cli).toFixed(2)}×`,
    target:
      target.absolute !== undefined
        ? `≤ ${seconds(target.absolute)}`
        : target.ratio !== undefined
          ? `≤ ${target.ratio}× docker build`
          : '(none)',
    met: met === undefined ? '' : met ? 'yes' : 'NO',
    samples: `ours ${samples.lib.map((x) => (x / 1000).toFixed(2)).join(' ')} | docker ${samples.cli.map((x) => (x / 1000).toFixed(2)).join(' ')}`,
  };
}

/** `pnpm build:images` with nothing changed, here and (optionally) at `baselineRef`, alternating. */
async function wholeRuns({ root, runs, baselineRef, work }) {
  const checkouts = [{ who: 'this checkout', dir: root }];
  if (baselineRef)
    checkouts.push({ who: `baseline ${baselineRef}`, dir: await baselineCheckout(root, baselineRef, work) });
  const times = new Map(checkouts.map((c) => [c.who, []]));
  for (const c of checkouts) await buildImages(c.dir); // warm-up: builds and measurements in place
  for (let i = 0; i < runs; i++) {
    for (const c of i % 2 ? [...checkouts].reverse() : checkouts) times.get(c.who).push(await buildImages(c.dir));
    log(`bench build (pipeline): whole warm run, round ${i + 1}/${runs}`);
  }
  const ours = median(times.get('this checkout'));
  const base = baselineRef ? median(times.get(`baseline ${baselineRef}`)) : undefined;
  return [
    {
      what: 'whole warm `pnpm build:images` (both images, start-up runs included)',
      ours: seconds(ours),
      other: base === undefined ? '(no --baseline-ref)' : `${baselineRef} ${seconds(base)}`,
      ratio: base === undefined ? '' : `${(ours / base).toFixed(2)}×`,
      target: '≤ 0.5× the baseline',
      met: base === undefined ? '' : ours / base <= 0.5 ? 'yes' : 'NO',
      samples: [...times].map(([who, xs]) => `${who} ${xs.map((x) => (x / 1000).toFixed(1)).join(' ')}`).join(' | '),
    },
  ];
}

async function buildImages(dir) {
  const start = performance.now();
  await $({ cwd: dir, quiet: true })`node_modules/.bin/zx scripts/build-images.mjs --progress plain`;
  return performance.now() - start;
}

/** A worktree of `ref` beside this one, installed and built (the wheelhouse and CA files copied in). */
async function baselineCheckout(root, ref, work) {
  const dir = path.join(work, 'baseline');
  await $({ cwd: root, quiet: true })`git worktree add --detach ${dir} ${ref}`;
  process.on('exit', () => {
    try {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
  for (const sub of ['examples/wheelhouse', 'examples/certs']) {
    await cp(path.join(root, sub), path.join(dir, sub), { recursive: true });
  }
  await $({ cwd: dir, quiet: true })`pnpm install --frozen-lockfile --offline`;
  await $({ cwd: dir, quiet: true })`pnpm build`;
  return dir;
}

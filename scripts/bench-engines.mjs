#!/usr/bin/env node
// pnpm bench engines: issue 18's engine matrix side by side in one run. Each example image (api, worker) is built
// cold (--no-cache) and then warm (everything cached) through the gate's build + inspect (runImages, no budgets) on:
//   - the host's engine (Docker 20.10 here),
//   - Debian 13's Docker Engine 26.1 with the classic image store,
//   - the same Engine 26.1 with the containerd image store,
// the engines taking turns image by image (rotated each round), and one table printed: build times (median over the
// rounds), then size, compressed size and the reported identity of the image each engine built. Engine 26 is started
// beside the host's engine with the engine tests' harness (harness/engine-matrix.ts: own roots, socket, bridge,
// outbound NAT; scripts/bench.mjs runs this file under tsx for that), after `bash scripts/bootstrap.sh --test` has
// unpacked it. An engine that cannot build an image gets "failed" in its row and the error under the table; the
// others go on. Everything started here is stopped and checked gone at the end. Options (through pnpm bench, give
// values with =): --rounds=N (default 1), --images=api,worker (default both).
import { performance } from 'node:perf_hooks';
import { argv, path } from 'zx';
import { connectEngine, loadConfig, runImages } from '@4pass/builder';
import { MATRIX_ENGINES, startMatrixEngine, stopMatrixEngine } from '../harness/engine-matrix.js';

const root = path.resolve(import.meta.dirname, '..');
const rounds = Number(argv.rounds ?? 1);
const images = String(argv.images ?? 'api,worker').split(',');
const id = `e${Date.now().toString(36)}`;
const SHA = 'e'.repeat(40); // tags only; nothing depends on the commit here

const log = (line) => process.stderr.write(`${line}\n`);
const seconds = (ms) => (ms / 1000).toFixed(1);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The project's config, each image under a repository and tag of this run (nothing of anyone else is touched). */
async function benchConfig() {
  const loaded = await loadConfig(path.join(root, 'images.config.json'));
  const only = loaded.images.filter((image) => images.includes(image.name));
  const missing = images.filter((name) => !only.some((image) => image.name === name));
  if (missing.length) throw new Error(`--images: unknown ${missing.join(', ')}`);
  return {
    ...loaded,
    images: only.map((image) => ({
      ...image,
      repository: `4pass-bench/${id}-${image.name}`,
      tags: ['bench'],
      labels: { ...image.labels, 'org.4pass.bench': id },
    })),
  };
}

/** One build + inspect of `image` on `engine`: the build stage's time and the figures of what it built. */
async function build(engine, config, image, noCache) {
  const begin = performance.now();
  const result = await runImages({ engine, config, only: [image], budgets: false, sha: SHA, noCache });
  const errors = result.report.errors;
  if (errors.length) throw new Error(errors.map((e) => `${e.stage ?? ''}: ${e.message}`).join('; '));
  const report = result.report.images.find((r) => r.name === image);
  return {
    ms: result.images[image]?.durations.build ?? performance.now() - begin,
    sizeBytes: report?.sizeBytes,
    compressedSizeBytes: report?.compressedSizeBytes,
    identity: report?.imageId,
  };
}

/** Cold then warm on each engine, image by image, the engines' order rotated each round; fills `rows`. */
async function measure(engines, config, rows) {
  for (let round = 0; round < rounds; round++) {
    for (const image of images) {
      const order = engines.map((_, i) => engines[(i + round) % engines.length]);
      for (const { label, engine } of order) {
        const row = rows.get(`${label}|${image}`);
        if (row.error) continue;
        try {
          const cold = await build(engine, config, image, true);
          const warm = await build(engine, config, image, false);
          row.cold.push(cold.ms);
          row.warm.push(warm.ms);
          Object.assign(row, { sizeBytes: warm.sizeBytes, compressedSizeBytes: warm.compressedSizeBytes });
          row.identity = warm.identity;
          log(`round ${round + 1}: ${image} on ${label}: cold ${seconds(cold.ms)} s, warm ${seconds(warm.ms)} s`);
        } catch (error) {
          row.error = error instanceof Error ? error.message : String(error);
          log(`round ${round + 1}: ${image} on ${label}: FAILED ${row.error}`);
        }
      }
    }
  }
}

function printTable(rows) {
  const header = ['engine', 'image', 'cold s', 'warm s', 'size bytes', 'compressed bytes', 'identity'];
  const cells = [...rows.values()].map((r) => [
    r.label,
    r.image,
    r.error ? 'failed' : seconds(median(r.cold)),
    r.error ? 'failed' : seconds(median(r.warm)),
    String(r.sizeBytes ?? ''),
    String(r.compressedSizeBytes ?? ''),
    r.identity?.slice(0, 19) ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nbench engines: build stage (--no-budget), median of ${rounds} round(s); figures of the warm build`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
  for (const r of rows.values()) if (r.error) console.log(`${r.image} on ${r.label}: ${r.error}`);
  for (const image of images)
    console.log(
      differences(
        image,
        [...rows.values()].filter((r) => r.image === image),
      ),
    );
}

/** Which figures of one image differ between the engines that built it. */
function differences(image, built) {
  const ok = built.filter((r) => !r.error);
  const figures = ['sizeBytes', 'compressedSizeBytes', 'identity'];
  const differ = figures.filter((f) => new Set(ok.map((r) => r[f])).size > 1);
  const over = ok.map((r) => r.label).join(', ');
  return `${image}: ${differ.length ? `differs in ${differ.join(', ')}` : 'the same figures'} across ${over || 'no engine'}`;
}

const local = await connectEngine();
const started = [];
let failure;
try {
  const config = await benchConfig();
  const engines = [{ label: `host ${(await local.version()).version}`, engine: local }];
  for (const { name, store } of MATRIX_ENGINES) {
    log(`starting Engine 26 with the ${store} image store and loading the base images…`);
    const matrix = await startMatrixEngine(name, store, local);
    started.push(matrix);
    engines.push({ label: `${(await matrix.engine.version()).version} ${store}`, engine: matrix.engine });
  }
  const rows = new Map();
  for (const { label } of engines)
    for (const image of images) rows.set(`${label}|${image}`, { label, image, cold: [], warm: [] });
  await measure(engines, config, rows);
  printTable(rows);
} catch (error) {
  failure = error;
} finally {
  for (const matrix of started) await stopMatrixEngine(matrix).catch((error) => (failure ??= error));
  // Every tag this run put on the host's engine (untagged only, never forced: layers may be shared).
  for (const image of await local.listImages({ label: [`org.4pass.bench=${id}`] }))
    for (const tag of image.repoTags) await local.removeImage(tag).catch(() => undefined);
}
if (failure) {
  console.error(`bench engines failed: ${failure instanceof Error ? failure.message : String(failure)}`);
  process.exitCode = 1;
}

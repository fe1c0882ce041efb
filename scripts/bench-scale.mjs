#!/usr/bin/env node
// pnpm bench scale: issue 15's targets, measured side by side in one run (medians over alternating rounds):
//   (a) both example images (api, worker) through the gate's build + inspect, cold (--no-cache): on the local engine
//       one after the other, vs the local engine and a second engine in parallel (one image each);
//   (b) each image on a FRESH engine (empty data root): cold, vs with the registry build cache warm (a local
//       docker-registry with basic auth, written once by a gate run with --push and cache.to);
//   (c) the same warm build on a remote engine over mutual TLS vs the local engine; and the bytes a no-change rebuild
//       moves over the TLS connection (counted by a TCP relay in front of the engine; target under 1 MB).
// Second engines are started with the engine tests' harness (harness/second-engine.ts: own data root, bridge,
// certificates; NAT for the API's npm and Debian downloads) — scripts/bench.mjs runs this file under tsx for that.
// Base images reach them through the Engine API (exported once from the local engine). Everything started here is
// stopped and checked gone at the end. Options: --rounds N (default 3), --parts a,b,c (default all).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { argv, path } from 'zx';
import { createServer, connect as tcpConnect } from 'node:net';
import {
  connectEngine,
  connectEngines,
  createMemoryMeasurementCache,
  loadConfig,
  runImages,
} from '@4pass/builder/internal';
import { startRegistry } from '../harness/registry.js';
import { startSecondEngine } from '../harness/second-engine.js';

const root = path.resolve(import.meta.dirname, '..');
const rounds = Number(argv.rounds ?? 3);
const parts = String(argv.parts ?? 'a,b,c').split(',');
const id = `s${Date.now().toString(36)}`;
const BASES = ['4pass-local/python:3.11-slim', '4pass-local/node:20-slim'];
const IMAGES = ['api', 'worker'];
const SHA = 'b'.repeat(40); // tags only; nothing depends on the commit here

const local = await connectEngine();
const work = await mkdtemp(path.join(tmpdir(), '4pass-bench-scale-'));
const config = await benchConfig();
const started = []; // { stop(), leftovers() } of everything this bench started
const rows = [];
const load = { start: loadavg() };

/** The project's config, each image under a repository and tag of this run (nothing of anyone else is touched). */
async function benchConfig() {
  const loaded = await loadConfig(path.join(root, 'images.config.json'));
  const images = loaded.images.map((image) => ({
    ...image,
    repository: `4pass-bench/${id}-${image.name}`,
    tags: ['bench'],
    labels: { ...image.labels, 'org.4pass.bench': id },
  }));
  return { ...loaded, images };
}

const log = (line) => process.stderr.write(`${line}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const loadNow = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/** CPU time of the whole machine so far (ms): busy (user, nice, sys, irq) and total, over every core. */
function cpuTimes() {
  const sum = (pick) => cpus().reduce((n, c) => n + pick(c.times), 0);
  return {
    busy: sum((t) => t.user + t.nice + t.sys + t.irq),
    total: sum((t) => t.user + t.nice + t.sys + t.irq + t.idle),
  };
}

/** One gate run without budgets (build + inspect), timed, with the machine's CPU use meanwhile; fails on errors. */
async function gate(engines, options = {}) {
  const begin = performance.now();
  const cpu = cpuTimes();
  const result = await runImages({ engines, config, budgets: false, sha: SHA, ...options });
  const wallMs = performance.now() - begin;
  const after = cpuTimes();
  if (result.report.errors.length) {
    throw new Error(result.report.errors.map((e) => `${e.image ?? ''}: ${e.message}`).join('\n'));
  }
  return { wallMs, result, cpuBusy: (after.busy - cpu.busy) / (after.total - cpu.total) };
}

const buildMs = (run, image) => run.result.images[image]?.durations.build ?? NaN;

/** Saves each base image of the local engine once; loads them into `engine` through the Engine API. */
const baseTars = new Map();
async function provideBases(engine) {
  for (const base of BASES) {
    if (!baseTars.has(base)) {
      const file = path.join(work, `${base.replace(/[/:]/g, '_')}.tar`);
      await pipeline(await local.exportImage(base), createWriteStream(file));
      baseTars.set(base, file);
    }
    await engine.loadImage(createReadStream(baseTars.get(base)));
  }
}

/** A second engine (TLS on 127.0.0.1, outbound NAT), its base images loaded; stopped at the end if not before. */
async function secondEngine(name) {
  const engine = await startSecondEngine({ outbound: true });
  started.push(engine);
  const [adapter] = connectEngines([
    { name, host: engine.address, certPath: engine.certificates.clientDir, source: `bench ${name}` },
  ]);
  await provideBases(adapter);
  return { engine, adapter };
}

async function stopEngine(engine) {
  await engine.stop();
  const left = engine.leftovers();
  if (left.processes.length || left.mounts.length || left.bridge || left.rules.length)
    throw new Error(`the bench's engine ${engine.dir} left ${JSON.stringify(left)}`);
}

function addRow(part, what, samples, baseline, target) {
  const value = median(samples);
  const ratio = baseline === undefined ? undefined : value / baseline;
  rows.push({ part, what, value, samples, ratio, target });
  return value;
}

/** A line under the table: what the medians of a row are made of (per-image stage times, CPU use). */
const notes = [];

const percent = (x) => `${(x * 100).toFixed(0)}% busy`;

/** Median build and inspect time per image over runs, and the machine's CPU use meanwhile. */
function stageMedians(runs) {
  const per = IMAGES.map((image) => {
    const stage = (name) => seconds(median(runs.map((r) => r.result.images[image]?.durations[name] ?? NaN)));
    return `${image} build ${stage('build')}, inspect ${stage('inspect')}`;
  });
  return `${per.join('; ')}; machine CPU ${percent(median(runs.map((r) => r.cpuBusy)))} (${cpus().length} cores)`;
}

/** Who built what in a pool run, for the log. */
const placement = (run) =>
  Object.entries(run.result.images)
    .map(([image, record]) => `${image} on ${record.engine?.split(' ')[0]}`)
    .join(', ');

/** (c) The same warm build (everything cached) on the local engine and on the remote one over TLS, alternating. */
async function partC(localEngine, remote) {
  for (const image of IMAGES) {
    const times = { local: [], remote: [] };
    for (let round = 0; round < rounds; round++) {
      for (const who of round % 2 ? ['remote', 'local'] : ['local', 'remote']) {
        const run = await gate([who === 'local' ? localEngine : remote], { only: [image] });
        times[who].push(buildMs(run, image));
        log(`(c) ${image} round ${round + 1}: ${who} build ${seconds(buildMs(run, image))}`);
      }
    }
    const base = addRow('c', `${image}: warm build, local engine`, times.local);
    addRow('c', `${image}: warm build, remote engine over TLS`, times.remote, base, 1.1);
  }
  await remoteBytes();
}

/**
 * (c) The bytes a no-change rebuild of both images moves over the remote engine's TLS connection (a TCP relay in
 * front of it counts them, both ways), measurements kept by image id as the CLI keeps them.
 */
async function remoteBytes() {
  const remote = started.find((e) => e.address?.startsWith('tcp://'));
  const relay = await countingRelay(Number(remote.address.split(':').at(-1)));
  started.push({ stop: () => relay.close() });
  const [adapter] = connectEngines([
    {
      name: 'relayed',
      host: `tcp://127.0.0.1:${relay.port}`,
      certPath: remote.certificates.clientDir,
      source: 'bench',
    },
  ]);
  const measurements = createMemoryMeasurementCache();
  await gate([adapter], { budgets: true, measurements }); // builds (cached) and measures once
  relay.reset();
  const run = await gate([adapter], { budgets: true, measurements });
  const bytes = relay.bytes();
  notes.push(
    `(c) no-change rebuild of api + worker on the remote engine (start-up runs included, measurements reused): ` +
      `${(bytes / 1024).toFixed(0)} kB over the TLS connection (target < 1 MB: ${bytes < 1024 * 1024 ? 'met' : 'MISSED'}); ` +
      `build stage ${IMAGES.map((i) => `${i} ${seconds(buildMs(run, i))}`).join(', ')}`,
  );
}

/** A TCP relay on 127.0.0.1 to `port` that counts every byte in both directions. */
async function countingRelay(port) {
  let total = 0;
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const count = (chunk) => void (total += chunk.length);
    client.on('data', count);
    upstream.on('data', count);
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    bytes: () => total,
    reset: () => void (total = 0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** (a) Both images cold: one engine one after the other, vs two engines in parallel, alternating who goes first. */
async function partA(localEngine, remote) {
  const times = { sequential: [], parallel: [] };
  const detail = { sequential: [], parallel: [] };
  for (let round = 0; round < rounds; round++) {
    for (const how of round % 2 ? ['parallel', 'sequential'] : ['sequential', 'parallel']) {
      const run = await gate(how === 'parallel' ? [localEngine, remote] : [localEngine], { noCache: true });
      times[how].push(run.wallMs);
      detail[how].push(run);
      log(`(a) round ${round + 1}: ${how} ${seconds(run.wallMs)} (${placement(run)}, CPU ${percent(run.cpuBusy)})`);
    }
  }
  const base = addRow('a', 'api + worker cold, one engine, sequential', times.sequential);
  addRow('a', 'api + worker cold, two engines in parallel', times.parallel, base, 0.8);
  for (const how of ['sequential', 'parallel']) notes.push(`(a) ${how}: ${stageMedians(detail[how])}`);
}

/** The bench's config with a registry build cache per image: read from `repository(image)`, and written there with `to`. */
const withCache = (repository, to) => ({
  ...config,
  images: config.images.map((i) => ({
    ...i,
    cache: { from: [repository(i.name)], ...(to && { to: repository(i.name) }) },
  })),
});

/** (b) Each image on a FRESH engine: cold, vs reading the registry cache a main-branch run (--push) wrote. */
async function partB(localEngine) {
  const registry = await startRegistry({ password: `bench-${id}` });
  started.push({ stop: () => registry.dispose() });
  // As CI hands them over: the cache is read (and written) with the registry's credentials from the environment.
  process.env.REGISTRY_USERNAME = registry.username;
  process.env.REGISTRY_PASSWORD = registry.password;
  const repository = (image) => `${registry.host}/4pass-bench/${id}/cache-${image}`;
  log(`writing the registry cache: a gate run with --push on the local engine (load ${loadNow()})…`);
  await gate([localEngine], { config: withCache(repository, true), push: { registry: { host: registry.host } } });
  for (const image of IMAGES) {
    const times = { cold: [], warm: [] };
    for (let round = 0; round < rounds; round++) {
      for (const how of round % 2 ? ['warm', 'cold'] : ['cold', 'warm']) {
        const fresh = await secondEngine(`fresh-${how}`);
        const run = await gate([fresh.adapter], {
          only: [image],
          ...(how === 'warm' && { config: withCache(repository) }),
        });
        times[how].push(buildMs(run, image));
        log(`(b) ${image} round ${round + 1}: ${how} ${seconds(buildMs(run, image))} (${cachedSteps(run, image)})`);
        await stopEngine(fresh.engine);
      }
    }
    const base = addRow('b', `${image}: fresh engine, cold`, times.cold);
    addRow('b', `${image}: fresh engine, registry cache warm`, times.warm, base, 0.35);
  }
}

/** "12/14 steps cached" over every build of the image (the worker's builder and runtime too). */
function cachedSteps(run, image) {
  const build = run.result.builds[image];
  const parts = build && 'builder' in build ? [build.builder, build.runtime] : [build];
  const cached = parts.reduce((n, b) => n + (b?.cachedSteps ?? 0), 0);
  const total = parts.reduce((n, b) => n + (b?.totalSteps ?? 0), 0);
  return `${cached}/${total} steps cached`;
}

function printTable() {
  const header = ['part', 'what', 'median', 'ratio', 'target', 'met', 'samples'];
  const lines = rows.map((r) => [
    `(${r.part})`,
    r.what,
    seconds(r.value),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target === undefined ? '' : `≤ ${r.target}×`,
    r.target === undefined ? '' : r.ratio <= r.target ? 'yes' : 'NO',
    r.samples.map((ms) => (ms / 1000).toFixed(1)).join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nbench scale: ${cpus().length} CPUs; load average (1/5/15 min) ${load.start.map((x) => x.toFixed(1)).join(' ')} at the start, ${loadNow()} at the end; ${rounds} alternating rounds`,
  );
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(row(line));
  console.log('(a) gate wall time (build + inspect, --no-budget); (b), (c) the build stage; samples in seconds');
  for (const note of notes) console.log(note);
}

/** Stops what is still running, removes this run's local tags and files; throws when something is left. */
async function cleanUp() {
  for (const thing of started.reverse()) await thing.stop();
  // Every tag on an image this run built (local tags, registry and cache tags); untagged only, never forced.
  for (const image of await local.listImages({ label: [`org.4pass.bench=${id}`] }))
    for (const tag of image.repoTags) await local.removeImage(tag).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  const left = started.filter((e) => e.leftovers).map((e) => ({ dir: e.dir, ...e.leftovers() }));
  const dirty = left.filter((l) => l.processes.length || l.mounts.length || l.bridge || l.rules.length);
  if (dirty.length) throw new Error(`left behind: ${JSON.stringify(dirty)}`);
}

let failure;
try {
  const [localEngine] = connectEngines([{ name: 'local', host: local.address, source: 'bench local' }]);
  if (parts.includes('a') || parts.includes('c')) {
    const { adapter: remote } = await secondEngine('remote');
    log(`warming both engines (load ${loadNow()})…`);
    await gate([localEngine]);
    await gate([remote]);
    if (parts.includes('c')) await partC(localEngine, remote);
    if (parts.includes('a')) await partA(localEngine, remote);
  }
  if (parts.includes('b')) await partB(localEngine);
  printTable();
} catch (error) {
  failure = error;
} finally {
  await cleanUp().catch((error) => (failure ??= error));
}
if (failure) {
  console.error(`bench scale failed: ${failure instanceof Error ? failure.message : String(failure)}`);
  process.exitCode = 1;
}

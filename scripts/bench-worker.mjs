#!/usr/bin/env zx
// pnpm bench worker: the worker image five ways, one run, side by side, same base image.
//   naive        one stage, pip install -r requirements.txt, app copied, non-root (dockerfiles/worker-naive.Dockerfile)
//   seed-before  the same with PIP_NO_COMPILE=1 + PYTHONDONTWRITEBYTECODE=1 (no .pyc: every start recompiles)
//   optimized    builder → @4pass/optimizer → slim runtime (dockerfiles/worker.Dockerfile target `runtime`)
//   minimal      builder → @4pass/optimizer → closure → minimal runtime FROM scratch (target `minimal`, the profile of
//                images.config.json: what `pnpm build:images` builds)
//   floors       the base image running `python -c pass`; the optimized image running only the imports
// Size: uncompressed and compressed (gzip per layer, as a registry stores it). Start-up: as the production user with
// a read-only root filesystem and no network, in-process time to the ready line and container start → ready line,
// medians over --runs (default 9) rounds in alternating order. Options: --runs N, --keep (keep the images).
import { readFile } from 'node:fs/promises';
import { argv, path } from 'zx';
import { buildImage, buildWorkerImage, connectEngine, inspectImage, measureStartup } from '@4pass/builder/internal';

const root = path.resolve(import.meta.dirname, '..');
const contextDir = path.join(root, 'examples');
const runs = Number(argv.runs ?? 9);
const repo = `4pass-bench/worker-${Date.now().toString(36)}`;
const engine = await connectEngine();
const env = {
  WORKER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/4pass-jobs',
  AWS_REGION: 'eu-west-1',
};
const readyLine = { kind: 'logPattern', pattern: 'ready in' };
const processTimePattern = 'ready in (?<ms>[0-9.]+) ?ms';

const config = JSON.parse(await readFile(path.join(root, 'images.config.json'), 'utf8'));
const minimalProfile = config.images.find((i) => i.name === 'worker').optimizer;
const { closure: _closure, ...slimProfile } = minimalProfile;

process.stderr.write('building naive, seed-before, optimized and minimal…\n');
const naive = await buildImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/worker-naive.Dockerfile'),
  tags: [`${repo}:naive`],
});
const seed = await buildImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/worker-naive.Dockerfile'),
  tags: [`${repo}:seed-before`],
  buildArgs: { PIP_NO_COMPILE: '1', PYTHONDONTWRITEBYTECODE: '1' },
});
const optimized = await buildWorkerImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/worker.Dockerfile'),
  tags: [`${repo}:optimized`],
  profile: slimProfile,
  runtimeTarget: 'runtime',
  sourceDir: path.join(contextDir, 'worker'),
});
const minimal = await buildWorkerImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/worker.Dockerfile'),
  tags: [`${repo}:minimal`],
  profile: minimalProfile,
  runtimeTarget: 'minimal',
  sourceDir: path.join(contextDir, 'worker'),
});
const base = optimized.runtime.baseImages[0]?.used ?? '4pass-local/python:3.11-slim';

// The floors print their own in-process time like the worker does (perf_counter from the first line of the program).
const timed = (body) =>
  `import time; t = time.perf_counter()\n${body}\nprint(f"ready in {(time.perf_counter() - t) * 1000:.1f} ms", flush=True)`;
const variants = [
  { name: 'naive', image: naive.imageId, cmd: ['--exit-on-ready'] },
  { name: 'seed-before', image: seed.imageId, cmd: ['--exit-on-ready'] },
  { name: 'optimized', image: optimized.imageId, cmd: ['--exit-on-ready'] },
  { name: 'minimal', image: minimal.imageId, cmd: ['--exit-on-ready'] },
  { name: 'floor: base, python -c pass', image: base, entry: ['python3', '-c', timed('pass')], user: '65534' },
  {
    name: 'floor: optimized, imports only',
    image: `${repo}:optimized`,
    entry: ['/opt/venv/bin/python', '-c', timed('import boto3, botocore.session, pydantic')],
  },
];

const sizes = {};
for (const v of variants.slice(0, 5)) {
  // by name for the floors' derived images (FROM needs a name)
  const facts = await inspectImage(engine, v.image);
  sizes[v.name] = { size: facts.sizeBytes, compressed: facts.compressedSizeBytes };
}
sizes['floor: optimized, imports only'] = sizes.optimized;

// Entry-point overrides go through a tiny derived image so measureStartup runs them as its CMD.
for (const v of variants) {
  if (!v.entry) continue;
  const context = (await $`mktemp -d`).stdout.trim();
  await fs.writeFile(
    path.join(context, 'Dockerfile'),
    `FROM ${v.image}\n${v.user ? `USER ${v.user}\n` : ''}ENTRYPOINT ${JSON.stringify(v.entry)}\nCMD []\n`,
  );
  const derived = await buildImage({
    engine,
    contextDir: context,
    tags: [`${repo}:floor-${variants.indexOf(v)}`],
    resolveBaseImages: false,
  });
  await fs.remove(context);
  v.image = derived.imageId;
}

const samples = Object.fromEntries(variants.map((v) => [v.name, { container: [], process: [] }]));
for (let round = 0; round < runs; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    const r = await measureStartup(engine, v.image, {
      ready: readyLine,
      runs: 1,
      env,
      processTimePattern,
      timeoutMs: 60_000,
      ...(v.cmd && { cmd: v.cmd }),
    });
    if (!r.ok) throw new Error(`${v.name}: ${r.failures[0]?.reason}\n${r.failures[0]?.logTail.join('\n')}`);
    samples[v.name].container.push(r.runs[0].readyMs);
    if (r.runs[0].processMs !== undefined) samples[v.name].process.push(r.runs[0].processMs);
  }
  process.stderr.write(`round ${round + 1}/${runs}\n`);
}

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const ms = (x) => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);
const stats = Object.fromEntries(
  variants.map((v) => [
    v.name,
    { ...sizes[v.name], container: median(samples[v.name].container), process: median(samples[v.name].process) },
  ]),
);
const n = stats.naive;
const rows = variants.map((v) => {
  const s = stats[v.name];
  return [
    v.name,
    mb(s.size),
    `${(s.size / n.size).toFixed(2)}`,
    mb(s.compressed),
    ms(s.process),
    `${(s.process / n.process).toFixed(2)}`,
    ms(s.container),
    `${(s.container / n.container).toFixed(2)}`,
  ];
});
const header = [
  'variant',
  'size',
  '×naive',
  'compressed',
  'in-process ready',
  '×naive',
  'container start→ready',
  '×naive',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nworker image, ${runs} alternating rounds (medians), production user, read-only root, no network\n`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));

const o = stats.optimized;
const m = stats.minimal;
const s = stats['seed-before'];
const b = stats['floor: base, python -c pass'];
const targets = [
  ['minimal size ≤ 45 MB', m.size / 1e6, m.size <= 45e6, 'MB'],
  ['minimal compressed ≤ 17 MB', m.compressed / 1e6, m.compressed <= 17e6, 'MB'],
  ['minimal in-process ≤ 1.05 × optimized', m.process / o.process, m.process <= 1.05 * o.process],
  ['minimal container ≤ 1.05 × optimized', m.container / o.container, m.container <= 1.05 * o.container],
  ['optimized size ≤ 0.8 × naive', o.size / n.size, o.size <= 0.8 * n.size],
  ['optimized size ≤ base + 20 MB', (o.size - b.size) / 1e6, o.size <= b.size + 20e6],
  ['in-process ≤ 0.5 × seed-before', o.process / s.process, o.process <= 0.5 * s.process],
  ['in-process ≤ 0.85 × naive', o.process / n.process, o.process <= 0.85 * n.process],
  ['container ≤ 0.5 × seed-before', o.container / s.container, o.container <= 0.5 * s.container],
  ['container ≤ 0.85 × naive', o.container / n.container, o.container <= 0.85 * n.container],
];
console.log('\ntargets');
for (const [name, value, ok, unit] of targets)
  console.log(
    `  ${ok ? 'MET ' : 'MISS'}  ${name}  (${name.includes('+ 20') ? `+${value.toFixed(1)} MB` : unit ? `${value.toFixed(1)} ${unit}` : value.toFixed(2)})`,
  );

if (!argv.keep) {
  for (const v of variants) await engine.removeImage(v.image, { force: true }).catch(() => {});
  for (const tag of ['naive', 'seed-before', 'optimized', 'minimal'])
    await engine.removeImage(`${repo}:${tag}`, { force: true }).catch(() => {});
}

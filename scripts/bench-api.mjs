#!/usr/bin/env zx
// pnpm bench api: the API image before and after its environment went through @4pass/optimizer, one run, side by side.
//   before  dockerfiles/api-baseline.Dockerfile (pip install in the runtime stage, pip/setuptools uninstalled)
//   after   dockerfiles/api.Dockerfile through the worker pipeline with the API's optimizer profile (images.config.json):
//           boto3/botocore trimmed to Secrets Manager, STS and the credential services, hash-based bytecode
// Size: uncompressed and compressed (gzip per layer, as a registry stores it). Start-up, as production runs it (read-only
// root, tmpfs /tmp, WEB_CONCURRENCY=2): container start → engine health status `healthy` (the image's own HEALTHCHECK,
// polled every 100 ms) and container start → first 200 from /health on a loopback port, medians over --runs (default 7)
// rounds in alternating order. Options: --runs N, --keep (keep the images).
import { readFile } from 'node:fs/promises';
import { argv, path } from 'zx';
import { buildImage, buildWorkerImage, connectEngine, inspectImage, measureStartup } from '@4pass/builder/internal';

const root = path.resolve(import.meta.dirname, '..');
const contextDir = path.join(root, 'examples');
const runs = Number(argv.runs ?? 7);
const repo = `4pass-bench/api-${Date.now().toString(36)}`;
const label = { 'org.4pass.bench': repo };
const engine = await connectEngine();
const config = JSON.parse(await readFile(path.join(root, 'images.config.json'), 'utf8'));
const api = config.images.find((i) => i.name === 'api');
const env = { WEB_CONCURRENCY: '2' };

process.stderr.write('building before and after…\n');
const before = await buildImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/api-baseline.Dockerfile'),
  tags: [`${repo}:before`],
});
const after = await buildWorkerImage({
  engine,
  contextDir,
  dockerfile: path.join(root, 'dockerfiles/api.Dockerfile'),
  tags: [`${repo}:after`],
  profile: api.optimizer,
  runtimeTarget: api.target ?? 'runtime',
  sourceDir: path.join(root, api.sourceDir),
});
const variants = [
  { name: 'before', image: before.imageId },
  { name: 'after', image: after.imageId },
];
for (const v of variants) {
  const facts = await inspectImage(engine, v.image);
  Object.assign(v, { size: facts.sizeBytes, compressed: facts.compressedSizeBytes, healthy: [], firstHealth: [] });
}

/** Container start → first HTTP 200 from /health on the loopback port (polled every 20 ms); the container is removed. */
async function firstHealth(image) {
  const id = await engine.createContainer({
    image,
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    portBindings: { '8000/tcp': '0' },
    networkMode: 'bridge',
    readOnlyRootfs: true,
    tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
    labels: label,
  });
  try {
    const started = performance.now();
    await engine.startContainer(id);
    const port = (await engine.inspectContainer(id))?.NetworkSettings.Ports?.['8000/tcp']?.[0]?.HostPort;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return performance.now() - started;
      if (performance.now() - started > 90_000) throw new Error(`${image}: /health not 200 within 90 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await engine.removeContainer(id);
  }
}

for (let round = 0; round < runs; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    const r = await measureStartup(engine, v.image, {
      ready: { kind: 'healthcheck' },
      runs: 1,
      env,
      timeoutMs: 90_000,
    });
    if (!r.ok) throw new Error(`${v.name}: ${r.failures[0]?.reason}\n${r.failures[0]?.logTail.join('\n')}`);
    v.healthy.push(r.runs[0].readyMs);
    v.firstHealth.push(await firstHealth(v.image));
  }
  process.stderr.write(`round ${round + 1}/${runs}\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const ms = (x) => `${x.toFixed(0)} ms`;
const [b, a] = variants.map((v) => ({
  ...v,
  healthyMs: median(v.healthy),
  firstHealthMs: median(v.firstHealth),
}));
const rows = [b, a].map((v) => [
  v.name,
  mb(v.size),
  (v.size / b.size).toFixed(2),
  mb(v.compressed),
  (v.compressed / b.compressed).toFixed(2),
  ms(v.healthyMs),
  (v.healthyMs / b.healthyMs).toFixed(2),
  ms(v.firstHealthMs),
  (v.firstHealthMs / b.firstHealthMs).toFixed(2),
]);
const header = [
  'variant',
  'size',
  '×before',
  'compressed',
  '×before',
  'start→healthy',
  '×before',
  'first /health',
  '×before',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nAPI image, ${runs} alternating rounds (medians), read-only root, WEB_CONCURRENCY=2, loopback port\n`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log(`\nservices kept: ${after.optimizer.services.kept.join(', ')}`);
const target = 0.9 * 207.3e6;
console.log(
  `\ntargets\n  ${a.size <= target ? 'MET ' : 'MISS'}  after size ≤ 0.9 × 207.3 MB = 186.6 MB  (${mb(a.size)})`,
);

if (!argv.keep) {
  for (const tag of ['before', 'after']) await engine.removeImage(`${repo}:${tag}`, { force: true }).catch(() => {});
}

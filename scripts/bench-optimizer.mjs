#!/usr/bin/env zx
// `pnpm bench optimizer [--runs N] [--keep]`: slims a real boto3 + pydantic site-packages (local wheels) and times
// (a) the directory transform against a shell baseline removing the same paths with `rm -rf`, and (b) the tar path
// throughput (tar of the tree -> optimizeTar -> null sink). Prints sizes before/after per distribution.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { defaultProfile, optimizeDirectory, optimizeTar, planDirectory } from '@4pass/optimizer';

$.verbose = false;
const runs = Math.max(5, Number(argv.runs ?? 7));
const wheelDirs = (process.env.FOURPASS_WHEEL_DIRS ?? '/opt/pypi/files:/opt/pypi-more/files').split(':');
const work = await mkdtemp(path.join(tmpdir(), '4pass-bench-optimizer-'));
/** Decimal megabytes, as the optimizer's own report prints them. */
const formatBytes = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const table = (rows) => {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  '))
    .join('\n');
};

try {
  const source = path.join(work, 'site');
  echo(`installing boto3 pydantic pip setuptools pygments wheel into ${source} (host python3, local wheels)…`);
  await $`python3 -m pip install -q --disable-pip-version-check --no-index ${wheelDirs.flatMap((d) => ['--find-links', d])} --target ${source} boto3 pydantic pip setuptools pygments wheel`.nothrow();
  const tarFile = path.join(work, 'site.tar');
  await $`tar -C ${source} -cf ${tarFile} .`;
  const tarBytes = (await stat(tarFile)).size;

  // The shell baseline removes exactly the paths the optimizer removes.
  const plan = await planDirectory(source, defaultProfile);
  const roots = plan.removeRoots;

  const dirTimes = [];
  const shellTimes = [];
  const copy = async (name) => {
    const dir = path.join(work, name);
    await rm(dir, { recursive: true, force: true });
    await $`cp -a ${source} ${dir}`;
    await $`sync`;
    return dir;
  };
  // One warm-up round (JIT, page cache) is not counted.
  for (let i = -1; i < runs; i++) {
    const order = i % 2 === 0 ? ['optimizer', 'shell'] : ['shell', 'optimizer'];
    for (const which of order) {
      const dir = await copy(which);
      const t0 = performance.now();
      if (which === 'optimizer') {
        await optimizeDirectory(dir, defaultProfile);
        if (i >= 0) dirTimes.push(performance.now() - t0);
      } else {
        await $({ cwd: dir })`rm -rf -- ${roots}`;
        if (i >= 0) shellTimes.push(performance.now() - t0);
      }
    }
  }

  const tarTimes = [];
  const tarCpu = [];
  let report;
  // Two warm-up runs (JIT, page cache) are not counted.
  for (let i = -2; i < runs; i++) {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    report = await optimizeTar(createReadStream(tarFile, { highWaterMark: 1 << 20 }), sink, defaultProfile);
    const c = process.cpuUsage(c0);
    if (i < 0) continue;
    tarTimes.push(performance.now() - t0);
    tarCpu.push((c.user + c.system) / 1000);
  }

  echo(
    chalk.bold(
      '\nSizes (default profile: ecs, secretsmanager, sts, logs, sqs + sso, sso-oidc, signin; pip, setuptools, wheel, pygments removed)',
    ),
  );
  const rows = [['distribution', 'version', 'before', 'after', 'saved', 'files before', 'files after']];
  for (const d of report.distributions) {
    rows.push([
      d.name,
      d.version,
      formatBytes(d.before.bytes),
      formatBytes(d.after.bytes),
      formatBytes(d.before.bytes - d.after.bytes),
      d.before.files,
      d.after.files,
    ]);
  }
  rows.push([
    'TOTAL',
    '',
    formatBytes(report.before.bytes),
    formatBytes(report.after.bytes),
    formatBytes(report.before.bytes - report.after.bytes),
    report.before.files,
    report.after.files,
  ]);
  echo(table(rows));

  echo(
    chalk.bold(
      `\nTimings (median of ${runs} after warm-up, alternating; tree ${formatBytes(report.before.bytes)}, ${report.before.files} files; tar ${formatBytes(tarBytes)})`,
    ),
  );
  const dirMed = median(dirTimes);
  const shellMed = median(shellTimes);
  const tarMed = median(tarTimes);
  const mbps = tarBytes / 1e6 / (tarMed / 1000);
  echo(
    table([
      ['measure', 'median', 'min', 'max', 'target', 'met'],
      [
        'dir: optimizeDirectory (walk + plan + apply)',
        `${dirMed.toFixed(0)} ms`,
        `${Math.min(...dirTimes).toFixed(0)} ms`,
        `${Math.max(...dirTimes).toFixed(0)} ms`,
        `<= shell`,
        dirMed <= shellMed ? 'yes' : 'NO',
      ],
      [
        `dir: shell rm -rf of the same ${roots.length} paths`,
        `${shellMed.toFixed(0)} ms`,
        `${Math.min(...shellTimes).toFixed(0)} ms`,
        `${Math.max(...shellTimes).toFixed(0)} ms`,
        '',
        '',
      ],
      ['dir: ratio optimizer / shell', (dirMed / shellMed).toFixed(2), '', '', '<= 1.00', ''],
      [
        'tar: optimizeTar -> null sink',
        `${tarMed.toFixed(0)} ms`,
        `${Math.min(...tarTimes).toFixed(0)} ms`,
        `${Math.max(...tarTimes).toFixed(0)} ms`,
        '',
        '',
      ],
      [
        'tar: throughput (input bytes / wall time)',
        `${mbps.toFixed(0)} MB/s`,
        '',
        '',
        '>= 200 MB/s',
        mbps >= 200 ? 'yes' : 'NO',
      ],
      ['tar: process CPU (user+sys, all threads)', `${median(tarCpu).toFixed(0)} ms`, '', '', '', ''],
      [
        'tar: throughput per CPU second',
        `${(tarBytes / 1e6 / (median(tarCpu) / 1000)).toFixed(0)} MB/s`,
        '',
        '',
        '',
        '',
      ],
    ]),
  );
  echo(`\nload average while measuring: ${(await $`cat /proc/loadavg`).stdout.trim()}`);
} finally {
  if (!argv.keep) await rm(work, { recursive: true, force: true });
}

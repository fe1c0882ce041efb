import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from '../../harness/exec.js';
import { engine, runId } from './helpers.js';

/**
 * The packages as a deploy script outside this workspace gets them: packed by pnpm from a clean copy of the sources
 * (no dist/: prepack must build it), installed with plain npm into an empty project, type-checked strictly against the
 * installed types, and run against the real engine.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['optimizer', 'builder'] as const;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const tag = `4pass-test/package:${runId}`;

interface PackedManifest {
  name: string;
  files: string[];
  exports: Record<string, string | { types: string; default: string }>;
  bin?: Record<string, string>;
  dependencies: Record<string, string>;
}

const DEPLOY_TS = `import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildImage,
  connectEngine,
  createRenderer,
  promoteImage,
  runImages,
  validateSbom,
  type BuildResult,
  type GateReport,
} from '@4pass/builder';
import { buildWorkerImage } from '@4pass/builder/internal';
import { loadConfig, type ImagesConfig } from '@4pass/builder/config';
import { RULE_NAMES, type OptimizeReport } from '@4pass/optimizer';

// What the README's deploy script uses, from the installed types and every entry (not called here).
const api = [createRenderer, promoteImage, runImages, validateSbom, loadConfig, buildWorkerImage];
const shapes: [GateReport['pass'], ImagesConfig['images']] | undefined = undefined;

const [tag, runId] = process.argv.slice(2);
if (!tag || !runId) throw new Error('usage: deploy TAG RUN_ID');
const engine = await connectEngine();
const dir = await mkdtemp(join(tmpdir(), 'deploy-'));
try {
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\\nCOPY hello.txt /hello.txt\\n');
  await writeFile(join(dir, 'hello.txt'), \`hello from \${runId}\\n\`);
  const result: BuildResult = await buildImage({ engine, contextDir: dir, tags: [tag], labels: { 'org.4pass.test': runId } });
  const none: OptimizeReport | undefined = undefined;
  console.log(result.imageId, RULE_NAMES.length > 0 && none === undefined ? 'optimizer-ok' : 'optimizer-missing');
  console.log(api.every((f) => typeof f === 'function') && shapes === undefined ? 'api-ok' : 'api-missing');
} finally {
  await rm(dir, { recursive: true, force: true });
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    outDir: 'out',
    types: ['node'],
  },
  include: ['deploy.ts'],
};

let work: string;
const tarballs: Record<string, string> = {};

async function run(file: string, args: string[], cwd: string): Promise<string> {
  const r = await execa(file, args, { cwd });
  if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A copy of the workspace's package sources without any build output, sharing its installed node_modules. */
async function cleanCopy(dest: string): Promise<void> {
  for (const f of ['package.json', 'pnpm-workspace.yaml', 'tsconfig.base.json']) await cp(join(ROOT, f), join(dest, f));
  await symlink(join(ROOT, 'node_modules'), join(dest, 'node_modules'));
  for (const name of PACKAGES) {
    const from = join(ROOT, 'packages', name);
    const to = join(dest, 'packages', name);
    await mkdir(to, { recursive: true });
    for (const f of ['package.json', 'tsconfig.json', 'src']) await cp(join(from, f), join(to, f), { recursive: true });
    await symlink(join(from, 'node_modules'), join(to, 'node_modules'));
  }
}

async function tarList(tarball: string): Promise<string[]> {
  return (await run('tar', ['-tzf', tarball], work)).split('\n').filter(Boolean);
}

async function packedManifest(tarball: string): Promise<PackedManifest> {
  return JSON.parse(await run('tar', ['-xzOf', tarball, 'package/package.json'], work)) as PackedManifest;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), '4pass-package-'));
  await cleanCopy(join(work, 'workspace'));
  await mkdir(join(work, 'packs'));
  // The optimizer first, as it would be published: the builder depends on it.
  for (const name of PACKAGES) {
    await run('pnpm', ['pack', '--pack-destination', join(work, 'packs')], join(work, 'workspace', 'packages', name));
    tarballs[name] = join(work, 'packs', `4pass-${name}-0.1.0.tgz`);
  }
});

afterAll(async () => {
  const e = await engine();
  if (await e.inspectImage(tag)) await e.removeImage(tag, { force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pnpm pack', () => {
  it.each(PACKAGES)(
    '@4pass/%s: built on pack, with types, every listed file present, no maps or build info',
    async (name) => {
      const tarball = tarballs[name] as string;
      const files = await tarList(tarball);
      const manifest = await packedManifest(tarball);
      for (const entry of Object.values(manifest.exports)) {
        const targets = typeof entry === 'string' ? [entry] : [entry.types, entry.default];
        for (const target of targets) expect(files).toContain(`package/${target.replace('./', '')}`);
      }
      for (const bin of Object.values(manifest.bin ?? {})) expect(files).toContain(`package/${bin.replace('./', '')}`);
      for (const listed of manifest.files.filter((f) => !f.startsWith('!')))
        expect(
          files.some((f) => f.startsWith(`package/${listed}/`)),
          `files: ${listed}`,
        ).toBe(true);
      expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.tsbuildinfo'))).toEqual([]);
      expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    },
  );

  it.each(PACKAGES)('@4pass/%s: dependencies name real versions (no workspace: or catalog:)', async (name) => {
    const manifest = await packedManifest(tarballs[name] as string);
    for (const [dep, range] of Object.entries(manifest.dependencies))
      expect(range, dep).toMatch(/^[\^~]?\d+\.\d+\.\d+$/);
    if (name === 'builder') expect(manifest.dependencies['@4pass/optimizer']).toBe('0.1.0');
  });
});

describe('a deploy script outside the workspace', () => {
  let project: string;
  beforeAll(async () => {
    project = join(work, 'deploy');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'deploy', private: true, type: 'module' }));
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await writeFile(join(project, 'deploy.ts'), DEPLOY_TS);
    const types = JSON.parse(await readFile(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as {
      version: string;
    };
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        tarballs.optimizer as string,
        tarballs.builder as string,
        `@types/node@${types.version}`,
      ],
      project,
    );
  });

  it('type-checks strictly (nodenext) against the installed types', async () => {
    const r = await execa(process.execPath, [tsc, '-p', project], { cwd: project });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('connects, builds a tiny context and prints the image id', async () => {
    const out = await run(process.execPath, [join(project, 'out', 'deploy.js'), tag, runId], project);
    const [imageId, optimizer, api] = out.trim().split(/\s+/);
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(optimizer).toBe('optimizer-ok');
    expect(api).toBe('api-ok');
    const image = await (await engine()).inspectImage(tag);
    expect(image?.Id).toBe(imageId);
    expect(image?.Config.Labels?.['org.4pass.test']).toBe(runId);
  });
});

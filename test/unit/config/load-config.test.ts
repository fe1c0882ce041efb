import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, type ImageConfig, type StartupConfig } from '@4pass/builder';

const fixtures = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

describe('loadConfig', () => {
  it('parses units, merges defaults and resolves paths against the config directory', async () => {
    const config = await loadConfig(join(fixtures, 'valid.json'), { checkFiles: false });
    expect(config.file).toBe(join(fixtures, 'valid.json'));
    expect(config.registry).toEqual({ region: 'eu-west-1', accountId: '123456789012' });
    const [api, worker] = config.images;
    expect(api?.dockerfile).toBe(join(fixtures, 'dockerfiles/api.Dockerfile'));
    expect(api?.context).toBe(join(fixtures, 'examples'));
    expect(api?.pipeline).toBe('docker');
    expect(api?.budgets.size).toEqual({ enabled: true, limit: 260_000_000, level: 'fail' });
    expect(api?.budgets.startupMedian).toEqual({ enabled: true, limit: 1500, level: 'fail' });
    expect(api?.budgets.efficiency).toEqual({ enabled: true, limit: 0.95, level: 'fail' });
    expect(api?.budgets.wastedBytes).toEqual({ enabled: true, limit: 5_000_000, level: 'warn' });
    expect(api?.budgets.pathSizes).toEqual({ '/app/dist': { enabled: true, limit: 2 * 1024 * 1024, level: 'fail' } });
    expect(api?.budgets.growth).toEqual({ enabled: true, level: 'fail', of: 'size', unit: 'percent', limit: 5 });
    expect(api?.paths).toEqual(['/opt/venv', '/app/dist']);
    expect(api?.startup).toEqual({
      ready: { kind: 'healthcheck' },
      runs: 5,
      timeoutMs: 90_000,
      env: {},
      network: false,
      readOnly: true,
      healthcheckIntervalMs: 100,
    });
    expect(api?.structure).toEqual({
      nonRoot: 'runtime',
      healthcheck: true,
      absentPaths: ['/opt/venv/bin/pip'],
      presentPaths: [],
      noSecrets: true,
    });

    expect(worker?.pipeline).toBe('worker');
    expect(worker?.target).toBe('runtime');
    expect(worker?.optimizer).toEqual({ services: ['ecs', 'sqs'] });
    expect(worker?.budgets.efficiency).toEqual({ enabled: false });
    expect(worker?.budgets.layers).toEqual({ enabled: true, limit: 12, level: 'fail' });
    expect(worker?.budgets.startupP95).toEqual({ enabled: true, limit: 800, level: 'fail' });
    expect(worker?.startup?.ready).toEqual({ kind: 'logPattern', pattern: '^ready' });
    expect(worker?.startup?.runs).toBe(7);
    expect(worker?.structure.nonRoot).toBe('config');
    expect(worker?.structure.botocoreServices).toEqual(['ecs', 'logs', 'secretsmanager', 'sqs', 'sts']);
  });

  it('reports every problem at once, each with its path, naming the file', async () => {
    const file = join(fixtures, 'invalid.json');
    const e = await configError(loadConfig(file, { checkFiles: false }));
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i.message]));
    expect(byPath['images[0].name']).toMatch(/lowercase/);
    expect(byPath['images[0]']).toMatch(/unknown key "pipline"/);
    expect(byPath['images[0].budgets.size']).toMatch(/expected a size.*180 parsecs/);
    expect(byPath['images[0].budgets.startupMedian']).toMatch(/expected a duration.*fast/);
    expect(byPath['images[0].budgets.efficiency']).toMatch(/between 0 and 1/);
    expect(byPath['images[1].budgets.layers']).toMatch(/whole number/);
    expect(byPath['images[1].budgets.growth']).toMatch(/growth limit/);
    expect(byPath['images[1].budgets.pathSizes["opt/venv"]']).toMatch(/key must be an absolute path/);
    expect(e.issues.length).toBeGreaterThanOrEqual(8);
    expect(e.message).toContain('images[0].budgets.size:');
  });

  it('reports semantic problems together: duplicate names, ready ambiguity', () => {
    let caught: unknown;
    try {
      parseConfig(
        {
          images: [
            { name: 'a', dockerfile: 'D', context: '.', startup: { ready: { healthcheck: true, logPattern: 'x' } } },
            { name: 'a', dockerfile: 'D', context: '.', structure: { nonRoot: 'runtime' } },
          ],
        },
        'inline.json',
      );
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const issues = (caught as ConfigError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'images[0].startup.ready', message: expect.stringMatching(/exactly one.*healthcheck, logPattern/) },
        { path: 'images[1].name', message: expect.stringMatching(/duplicate image name "a" \(also images\[0\]\)/) },
        { path: 'images[1].structure.nonRoot', message: expect.stringMatching(/configure startup/) },
      ]),
    );
  });

  it('merges defaults: scalars overridden per image, path lists added up, explicit off wins', () => {
    const config = parseConfig(
      {
        defaults: {
          budgets: { size: '100MB', layers: 20 },
          structure: { absentPaths: ['/root/.aws'], healthcheck: true },
          startup: { ready: { healthcheck: true }, runs: 3 },
        },
        images: [
          {
            name: 'a',
            dockerfile: 'D',
            context: '.',
            budgets: { size: 'off' },
            structure: { absentPaths: ['/usr/bin/pip'], healthcheck: false },
          },
          { name: 'b', dockerfile: 'D', context: '.', startup: { ready: { logPattern: 'up' } } },
        ],
      },
      'x.json',
    );
    const [a, b] = config.images;
    expect(a?.budgets).toEqual({
      size: { enabled: false },
      layers: { enabled: true, limit: 20, level: 'fail' },
      pathSizes: {},
    });
    expect(a?.structure).toMatchObject({ absentPaths: ['/root/.aws', '/usr/bin/pip'], healthcheck: false });
    expect(a?.startup).toMatchObject({ ready: { kind: 'healthcheck' }, runs: 3 });
    expect(b?.structure).toMatchObject({ absentPaths: ['/root/.aws'], healthcheck: true });
    expect(b?.startup).toMatchObject({ ready: { kind: 'logPattern', pattern: 'up' }, runs: 3 });
  });

  it('rejects rules with a bad level or an unknown key, and explicit true', () => {
    const bad = () =>
      parseConfig(
        {
          images: [
            {
              name: 'a',
              dockerfile: 'D',
              context: '.',
              budgets: { size: { limit: '1MB', level: 'error', max: 1 }, layers: true },
            },
          ],
        },
        'x.json',
      );
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const paths = (e as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'images[0].budgets.size.level',
          'images[0].budgets.size.max',
          'images[0].budgets.layers',
        ]),
      );
    }
  });

  it('reports missing files, missing Dockerfiles and contexts, and bad JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    try {
      expect((await configError(loadConfig(join(dir, 'nope.json')))).issues[0]?.message).toBe('file not found');
      await writeFile(join(dir, 'bad.json'), '{ "images": [ }');
      expect((await configError(loadConfig(join(dir, 'bad.json')))).issues[0]?.message).toMatch(/not valid JSON/);
      await mkdir(join(dir, 'ctx'));
      await writeFile(join(dir, 'A.Dockerfile'), 'FROM scratch\n');
      await writeFile(
        join(dir, 'images.config.json'),
        JSON.stringify({
          images: [
            { name: 'ok', dockerfile: 'A.Dockerfile', context: 'ctx' },
            { name: 'gone', dockerfile: 'missing.Dockerfile', context: 'nowhere' },
          ],
        }),
      );
      const e = await configError(loadConfig(join(dir, 'images.config.json')));
      expect(e.issues.map((i) => i.path)).toEqual(['images[1].context', 'images[1].dockerfile']);
      expect(e.issues[1]?.message).toContain(join(dir, 'missing.Dockerfile'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports schema, unit, duplicate-name and missing-file problems together, in one error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    try {
      await writeFile(
        join(dir, 'images.config.json'),
        JSON.stringify({
          images: [
            { name: 'api', dockerfile: 'missing.Dockerfile', context: '.', budgets: { size: '12 parsecs' } },
            { name: 'api', dockerfile: 'missing.Dockerfile', context: 'nowhere', frobnicate: true },
          ],
        }),
      );
      const e = await configError(loadConfig(join(dir, 'images.config.json')));
      expect(e.issues.map((i) => i.path)).toEqual([
        'images[0].budgets.size',
        'images[0].dockerfile',
        'images[1]',
        'images[1].context',
        'images[1].dockerfile',
        'images[1].name',
      ]);
      expect(e.message).toMatch(/duplicate image name "api" \(also images\[0\]\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('locates JSON syntax errors by line and column, and refuses a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    try {
      await writeFile(join(dir, 'bad.json'), '{\n  "images": [\n    { "name": "a", }\n  ]\n}\n');
      const e = await configError(loadConfig(join(dir, 'bad.json')));
      expect(e.issues[0]?.message).toMatch(
        /^not valid JSON at line 3, column 20: Expected double-quoted property name$/,
      );
      await writeFile(join(dir, 'trailing.json'), '{ "images": [] }\n}\n');
      expect((await configError(loadConfig(join(dir, 'trailing.json')))).issues[0]?.message).toMatch(
        /^not valid JSON at line 2, column 1/,
      );
      expect((await configError(loadConfig(dir))).issues[0]?.message).toBe('is a directory, not a config file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies the schema defaults; the types come from the schema (no optional where a default exists)', () => {
    const [image] = parseConfig(
      { images: [{ name: 'a', dockerfile: 'D', context: '.', startup: { ready: { command: ['true'] } } }] },
      '/x/images.config.json',
    ).images;
    expect(image).toEqual({
      name: 'a',
      dockerfile: '/x/D',
      context: '/x',
      pipeline: 'docker',
      buildArgs: {},
      allowSecretBuildArgs: [],
      labels: {},
      startup: {
        ready: { kind: 'command', command: ['true'] },
        runs: 5,
        env: {},
        network: false,
        readOnly: true,
        timeoutMs: 60_000,
        healthcheckIntervalMs: 100,
      },
      paths: [],
      sbom: { files: [] },
      budgets: { pathSizes: {} },
      structure: { absentPaths: [], presentPaths: [], noSecrets: true },
    });
    expectTypeOf<ImageConfig['pipeline']>().toEqualTypeOf<'docker' | 'worker'>();
    expectTypeOf<ImageConfig['sbom']['files']>().toEqualTypeOf<string[]>();
    expectTypeOf<ImageConfig['buildArgs']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<StartupConfig['timeoutMs']>().toEqualTypeOf<number>();
  });
});

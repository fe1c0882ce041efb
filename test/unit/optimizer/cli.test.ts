import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../packages/optimizer/src/cli.js';
import { freshCopy, snapshot, targetInstall } from './wheels.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const c = await freshCopy(await targetInstall());
  dir = c.dir;
  cleanup = c.cleanup;
}, 300_000);
afterAll(() => cleanup());

describe('optimize CLI', () => {
  it('--dry-run prints per rule and per distribution, writes the JSON report, changes nothing', async () => {
    const before = await snapshot(dir);
    const json = path.join(path.dirname(dir), 'report.json');
    const r = await cli([dir, '--services', 'sqs,sts', '--remove', 'pip,setuptools', '--dry-run', '--json', json]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Would remove [\d.]+ MB/);
    expect(r.out).toMatch(/aws-service-data\s+[\d.]+ MB\s+\d+/);
    expect(r.out).toMatch(/pip\s+[\d.]+\s+removed/);
    expect(r.out).toMatch(/[Pp]ygments\s+[\d.]+\s+kept/);
    expect(r.out).toContain('AWS services kept (5, ');
    const report = JSON.parse(await readFile(json, 'utf8')) as { dryRun: boolean; services: { kept: string[] } };
    expect(report.dryRun).toBe(true);
    expect(report.services.kept).toEqual(['signin', 'sqs', 'sso', 'sso-oidc', 'sts']);
    expect(await snapshot(dir)).toBe(before);
  });

  it('bad usage and bad config exit 2, a directory that is no environment exits 3, with a readable message', async () => {
    expect(await cli([])).toMatchObject({
      code: 2,
      err: expect.stringContaining('Expected exactly one directory') as string,
    });
    expect(await cli([dir, '--frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("Unknown option '--frobnicate'") as string,
    });
    const bad = await cli([dir, '--services', 'sqs,secretmanager']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown AWS service 'secretmanager'; did you mean 'secretsmanager'?");
    const notSite = await cli([path.join(dir, 'botocore')]);
    expect(notSite.code).toBe(3);
    expect(notSite.err).toContain('is not a Python site-packages tree');
  });

  it('without flags applies the default profile', async () => {
    const r = await cli([dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Removed /);
    await expect(stat(path.join(dir, 'pip'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'botocore/data/ecs'))).resolves.toBeTruthy();
  });
});

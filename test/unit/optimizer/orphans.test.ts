import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { optimizeDirectory, parseProfile } from '@4pass/optimizer';
import { freshCopy, targetInstall } from './wheels.js';

// `wheel` requires `packaging`; nothing else in boto3's tree does.
const profile = parseProfile({ aws: { services: ['sqs'] } });

describe('orphaned dependencies of removed distributions', () => {
  it('removes packaging with wheel, and says why', async () => {
    const { dir, cleanup } = await freshCopy(await targetInstall(['boto3', 'wheel']));
    try {
      const report = await optimizeDirectory(dir, profile);
      expect(report.orphansRemoved).toEqual([
        { name: 'packaging', version: expect.any(String), requiredBy: ['wheel'] },
      ]);
      expect(existsSync(path.join(dir, 'packaging'))).toBe(false);
      expect((await readdir(dir)).filter((f) => f.startsWith('packaging-'))).toEqual([]);
      expect(existsSync(path.join(dir, 'boto3'))).toBe(true);
      expect(report.distributions.find((d) => d.name === 'packaging')?.after.bytes).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('keeps a dependency that was asked for by name (REQUESTED)', async () => {
    const report = await optimizeDirectory(await targetInstall(['boto3', 'wheel', 'packaging']), profile, {
      dryRun: true,
    });
    expect(report.orphansRemoved).toEqual([]);
  });

  it('keeps everything when the tree has no REQUESTED markers, with a warning', async () => {
    const { dir, cleanup } = await freshCopy(await targetInstall(['boto3', 'wheel']));
    try {
      for (const d of await readdir(dir))
        if (d.endsWith('.dist-info')) await rm(path.join(dir, d, 'REQUESTED'), { force: true });
      const report = await optimizeDirectory(dir, profile, { dryRun: true });
      expect(report.orphansRemoved).toEqual([]);
      expect(report.warnings.join('\n')).toMatch(/no REQUESTED markers in this tree: kept packaging/);
    } finally {
      await cleanup();
    }
  });

  it('can be switched off', async () => {
    const report = await optimizeDirectory(
      await targetInstall(['boto3', 'wheel']),
      parseProfile({ aws: { services: ['sqs'] }, removeOrphans: false }),
      { dryRun: true },
    );
    expect(report.orphansRemoved).toEqual([]);
  });
});

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkServiceUsage,
  defaultProfile,
  parseProfile,
  scanSourceForServices,
  type SourceFile,
} from '@4pass/optimizer';

const fixtures = path.join(import.meta.dirname, '../../fixtures/optimizer');

async function sources(dir: string): Promise<SourceFile[]> {
  const files = await readdir(dir, { recursive: true });
  return Promise.all(
    files
      .filter((f) => f.endsWith('.py'))
      .sort()
      .map(async (f) => ({ path: f, content: await readFile(path.join(dir, f), 'utf8') })),
  );
}

describe('scanSourceForServices', () => {
  it('finds client/resource/Session().client/service_name= calls with file and line', async () => {
    const calls = scanSourceForServices(await sources(path.join(fixtures, 'worker-s3')));
    expect(calls).toEqual([
      { service: 'dynamodb', file: 'app/ddb.py', line: 5 },
      { service: 'secretsmanager', file: 'app/ddb.py', line: 6 },
      { service: 'sqs', file: 'app/main.py', line: 5 },
      { service: 'logs', file: 'app/main.py', line: 7 },
      { service: 's3', file: 'app/main.py', line: 13 },
    ]);
  });
});

describe('checkServiceUsage', () => {
  it('names file and line of each call to a trimmed service', async () => {
    const calls = scanSourceForServices(await sources(path.join(fixtures, 'worker-s3')));
    const violations = checkServiceUsage(defaultProfile, calls);
    expect(violations.map((v) => `${v.file}:${v.line} ${v.service}`)).toEqual([
      'app/ddb.py:5 dynamodb',
      'app/main.py:13 s3',
    ]);
    expect(violations[1]?.message).toMatch(
      /^app\/main\.py:13: calls AWS service 's3', which the optimizer profile removes/,
    );
  });

  it('passes a worker that only uses kept services, and a profile that keeps s3', async () => {
    const ok = scanSourceForServices(await sources(path.join(fixtures, 'worker-ok')));
    expect(ok.map((c) => c.service)).toEqual(['ecs', 'sts', 'sqs']);
    expect(checkServiceUsage(defaultProfile, ok)).toEqual([]);
    const calls = scanSourceForServices(await sources(path.join(fixtures, 'worker-s3')));
    const wide = parseProfile({ aws: { services: ['sqs', 'logs', 's3', 'dynamodb', 'secretsmanager'] } });
    expect(checkServiceUsage(wide, calls)).toEqual([]);
  });
});

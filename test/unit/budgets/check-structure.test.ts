import { describe, expect, it } from 'vitest';
import { parseConfig, type ImageFacts, type LayerEntry, type StructureConfig } from '@4pass/builder/internal';
import {
  checkStructure,
  findBotocoreServices,
  isRootUser,
  pathPattern,
} from '../../../packages/builder/src/budgets/check-structure.js';
import { redactSecrets, scanSecrets } from '../../../packages/builder/src/secrets/scan-secrets.js';
import { factsFixture } from './facts-fixture.js';

const structureOf = (structure: unknown): StructureConfig =>
  parseConfig({ images: [{ name: 'x', dockerfile: 'D', context: '.', structure }] }, 'test.json').images[0]!.structure;

const FAKE_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const FAKE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('non-root and healthcheck', () => {
  it.each([
    ['', true],
    ['root', true],
    ['0', true],
    ['0:0', true],
    ['root:root', true],
    ['app', false],
    ['1000:1000', false],
    ['10001', false],
  ])('isRootUser(%j) = %s', (user, root) => {
    expect(isRootUser(user)).toBe(root);
  });

  it('config user: fails for root with the user named, passes otherwise', () => {
    const root = checkStructure(
      factsFixture({ config: { user: '0:0', env: [], labels: {} } }),
      structureOf({ nonRoot: true, noSecrets: false }),
    );
    expect(root[0]).toMatchObject({
      id: 'nonRoot',
      status: 'fail',
      actual: '0:0',
      message: 'user=0:0: the image runs as root (set USER to a non-root user)',
    });
    const ok = checkStructure(factsFixture(), structureOf({ nonRoot: 'config' }));
    expect(ok[0]).toMatchObject({ id: 'nonRoot', status: 'pass' });
  });

  it('runtime user: measured PID 1 uid from the startup run', () => {
    // parseConfig requires startup with nonRoot: "runtime"; here the structure is given directly.
    const s: StructureConfig = { nonRoot: 'runtime', absentPaths: [], presentPaths: [], noSecrets: false };
    const base = {
      image: 'x',
      ready: 'healthcheck' as const,
      runs: [],
      ok: true,
      failures: [],
      settings: { runs: 1, timeoutMs: 1, network: false, readOnly: true },
    };
    expect(checkStructure(factsFixture(), s, { ...base, runtimeUid: 0 })[0]).toMatchObject({
      status: 'fail',
      actual: 'uid=0',
    });
    expect(checkStructure(factsFixture(), s, { ...base, runtimeUid: 10001 })[0]).toMatchObject({
      status: 'pass',
      actual: 'uid=10001',
    });
    expect(checkStructure(factsFixture(), s)[0]).toMatchObject({ status: 'skip' });
  });

  it('healthcheck required', () => {
    const none = factsFixture({ config: { user: 'app', env: [], labels: {} } });
    expect(checkStructure(none, structureOf({ healthcheck: true }))[0]).toMatchObject({
      id: 'healthcheck',
      status: 'fail',
      message: 'no HEALTHCHECK in the image',
    });
    expect(checkStructure(factsFixture(), structureOf({ healthcheck: true }))[0]).toMatchObject({ status: 'pass' });
  });
});

describe('paths and botocore', () => {
  it('absent/present paths, with globs', () => {
    const checks = checkStructure(
      factsFixture(),
      structureOf({
        absentPaths: ['/opt/venv/lib/python*/site-packages/pip', '/usr/bin/pip'],
        presentPaths: ['/app/main.py', '/app/missing.py'],
      }),
    );
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['absentPath:/opt/venv/lib/python*/site-packages/pip', 'fail'],
      ['absentPath:/usr/bin/pip', 'pass'],
      ['presentPath:/app/main.py', 'pass'],
      ['presentPath:/app/missing.py', 'fail'],
      ['noSecrets', 'pass'],
    ]);
    expect(checks[0]?.message).toBe(
      '/opt/venv/lib/python*/site-packages/pip must be absent but is present: /opt/venv/lib/python3.11/site-packages/pip',
    );
    expect(pathPattern('/a/**/b').test('/a/x/y/b')).toBe(true);
    expect(pathPattern('/a/*/b').test('/a/x/y/b')).toBe(false);
  });

  it('a plain path is found through symlinks, as a process in the container would open it', () => {
    const link = (path: string, linkname: string): LayerEntry => ({
      path,
      size: 0,
      type: 'symlink',
      mode: 0o777,
      linkname,
    });
    const file = (path: string): LayerEntry => ({ path, size: 10, type: 'file', mode: 0o755 });
    const mergedUsr = [
      [link('/bin', 'usr/bin'), link('/usr/bin/sh', 'dash'), file('/usr/bin/dash'), link('/loop', '/loop')],
    ];
    const checks = checkStructure(
      factsFixture({ files: mergedUsr }),
      structureOf({ absentPaths: ['/bin/sh', '/bin/bash', '/loop/x'], presentPaths: ['/bin/dash'], noSecrets: false }),
    );
    expect(checks.map((c) => [c.id, c.status, c.details?.[0]])).toEqual([
      ['absentPath:/bin/sh', 'fail', '/bin/sh → /usr/bin/dash'],
      ['absentPath:/bin/bash', 'pass', undefined],
      ['absentPath:/loop/x', 'pass', undefined],
      ['presentPath:/bin/dash', 'pass', '/bin/dash → /usr/bin/dash'],
      ['noSecrets', 'skip', undefined],
    ]);
    // Without the links (an image FROM scratch), the shell is simply absent.
    const scratch = checkStructure(
      factsFixture({ files: [[file('/usr/bin/python3.11')]] }),
      structureOf({ absentPaths: ['/bin/sh'] }),
    );
    expect(scratch[0]).toMatchObject({ status: 'pass', message: '/bin/sh is absent' });
  });

  it('botocore data services: the exact set, naming missing and unexpected ones', () => {
    const facts = factsFixture();
    expect(findBotocoreServices(facts.tree).services).toEqual(['ecs', 'sqs']);
    const [ok] = checkStructure(facts, structureOf({ botocoreServices: ['sqs', 'ecs'] }));
    expect(ok).toMatchObject({ status: 'pass', actual: 'ecs,sqs', limit: 'ecs,sqs' });
    const [bad] = checkStructure(facts, structureOf({ botocoreServices: ['sqs', 'sts'] }));
    expect(bad).toMatchObject({
      status: 'fail',
      message: 'botocore data services differ: missing sts; unexpected ecs (found 2, expected 2)',
    });
  });
});

describe('credentials', () => {
  const leaky = factsFixture({
    config: {
      user: 'app',
      env: [
        'PATH=/usr/bin',
        `AWS_ACCESS_KEY_ID=${FAKE_KEY_ID}`,
        `AWS_SECRET_ACCESS_KEY=${FAKE_SECRET}`,
        'GITHUB_TOKEN=ghp_notreallyatoken123',
        'APP_SECRETS_ID=prod/api',
        'DB_PASSWORD_FILE=/run/secrets/db',
        'EMPTY_SECRET=',
        'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D',
        'DATABASE_URL=postgres://app:hunter2hunter2@db:5432/app',
      ],
      labels: { 'org.example.deploy-token': 'tok_abcdef', 'org.opencontainers.image.title': 'x' },
    },
    steps: [
      'ADD rootfs /',
      `RUN |1 NPM_TOKEN=npm_secretvalue123 /bin/sh -c npm ci # buildkit`,
      `RUN /bin/sh -c echo ${FAKE_KEY_ID} > /x # buildkit`,
    ],
  });

  it('finds them in ENV, labels and history, naming where and the pattern only', () => {
    const findings = scanSecrets({
      env: leaky.config.env,
      labels: leaky.config.labels,
      history: leaky.history.map((h) => h.createdBy),
    });
    expect(findings).toEqual([
      { where: 'ENV', name: 'AWS_ACCESS_KEY_ID', pattern: 'aws-access-key-id' },
      { where: 'ENV', name: 'AWS_SECRET_ACCESS_KEY', pattern: 'aws-secret-access-key' },
      { where: 'ENV', name: 'GITHUB_TOKEN', pattern: 'secret-name' },
      { where: 'ENV', name: 'DATABASE_URL', pattern: 'url-credentials' },
      { where: 'LABEL', name: 'org.example.deploy-token', pattern: 'secret-name' },
      { where: 'HISTORY', name: 'NPM_TOKEN', step: 1, pattern: 'secret-name' },
      { where: 'HISTORY', name: '(text)', step: 2, pattern: 'aws-access-key-id' },
    ]);
  });

  it('never echoes a value in messages or details', () => {
    const checks = checkStructure(leaky, structureOf({}));
    const secretCheck = checks.find((c) => c.id === 'noSecrets');
    expect(secretCheck).toMatchObject({ status: 'fail', actual: 7 });
    expect(secretCheck?.details).toContain(
      'ENV AWS_SECRET_ACCESS_KEY looks like a credential (an AWS secret access key; value hidden)',
    );
    const text = JSON.stringify(checks);
    for (const value of [
      FAKE_KEY_ID,
      FAKE_SECRET,
      'ghp_notreallyatoken123',
      'hunter2hunter2',
      'tok_abcdef',
      'npm_secretvalue123',
    ]) {
      expect(text).not.toContain(value);
    }
  });

  it('redacts values in free text', () => {
    const line = `RUN |2 NPM_TOKEN=npm_secretvalue123 MODE=prod /bin/sh -c curl https://u:pw12345@h/ && echo ${FAKE_KEY_ID}`;
    const red = redactSecrets(line);
    expect(red).toBe('RUN |2 NPM_TOKEN=*** MODE=prod /bin/sh -c curl https://u:***@h/ && echo ***');
    expect(redactSecrets('value is s3cr3t-value here', ['s3cr3t-value'])).toBe('value is *** here');
    expect(redactSecrets('-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----')).toBe('***');
  });

  it('reports conventional credential files by path, without reading them', () => {
    const facts = factsFixture({
      files: [
        [
          { path: '/root/.aws/credentials', size: 116, type: 'file', mode: 0o600 },
          { path: '/home/app/.ssh/id_ed25519', size: 400, type: 'file', mode: 0o600 },
          { path: '/home/app/.ssh/id_ed25519.pub', size: 90, type: 'file', mode: 0o644 },
          { path: '/etc/ssl/certs/ca.pem', size: 900, type: 'file', mode: 0o644 },
        ],
      ],
    });
    const c = checkStructure(facts, structureOf({})).find((x) => x.id === 'noSecrets');
    expect(c?.details).toEqual([
      'FILE /root/.aws/credentials looks like a credential (a credentials file; value hidden)',
      'FILE /home/app/.ssh/id_ed25519 looks like a credential (a credentials file; value hidden)',
    ]);
  });

  it('can be switched off explicitly', () => {
    expect(checkStructure(leaky, structureOf({ noSecrets: false })).find((c) => c.id === 'noSecrets')?.status).toBe(
      'skip',
    );
  });
});

describe('scannerVisible', () => {
  const base = { python: [], paths: [], pythonStdlib: [], sourcesWithoutBytecode: 0 };
  const libc = { name: 'libc6', version: '2.36-9', sizeBytes: 1, sizeFrom: 'files' as const, fileCount: 1, layer: 0 };
  const os = { id: 'debian', version: '12.15' };
  const check = (contents: ImageFacts['contents']) =>
    checkStructure(factsFixture({ contents }), structureOf({ scannerVisible: true, noSecrets: false })).find(
      (c) => c.id === 'scannerVisible',
    );

  it('passes when every ELF file belongs to a visible package and the distribution is named', () => {
    expect(check({ ...base, debian: [libc], os, elf: { files: 12, unowned: [] } })).toMatchObject({
      status: 'pass',
      actual: 0,
      message:
        'all 12 ELF files belong to packages a scanner sees (1 Debian packages, 0 Python distributions, debian 12.15)',
    });
  });

  it('fails naming the ELF files no visible package owns, and Debian packages without os-release', () => {
    const unowned = ['/usr/bin/a', '/usr/bin/b', '/usr/bin/c', '/usr/bin/d'];
    expect(check({ ...base, debian: [libc], elf: { files: 40, unowned } })).toMatchObject({
      status: 'fail',
      level: 'fail',
      actual: 5,
      limit: 0,
      message:
        '4 of 40 ELF files belong to no package a scanner can see: /usr/bin/a, /usr/bin/b, /usr/bin/c (+1 more); ' +
        '1 Debian packages but no /etc/os-release: scanners cannot match them to advisories',
      details: unowned,
    });
  });

  it('is off unless asked for (images FROM scratch ask by default: see the budgets stage)', () => {
    const off = checkStructure(factsFixture({}), structureOf({ noSecrets: false }));
    expect(off.map((c) => c.id)).not.toContain('scannerVisible');
    expect(check(undefined)).toMatchObject({ status: 'skip', message: 'contents not read' });
  });
});

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosureError,
  ProfileError,
  closureDirectory,
  closureTar,
  formatClosureReport,
  parseProfile,
  type ClosureOptionsInput,
  type ClosureReport,
} from '@4pass/optimizer';
import { ELF_DIR, rootfsNodes, writeRootfs, type Layout } from '../../fixtures/optimizer/rootfs.js';
import { sink, tarfileMembers, type TarfileMember } from './tar-view.js';
import { PYTHON, run } from './wheels.js';

type Member = Pick<TarfileMember, 'name' | 'type' | 'mode' | 'linkname' | 'content'>;

/** Members of a tar as Python's tarfile reads them (independent of the code under test). */
async function readTar(file: string): Promise<Member[]> {
  const members = await tarfileMembers(file, { content: true });
  return members.map(({ name, type, mode, linkname, content }) => ({
    name: name.replace(/\/+$/, ''),
    type,
    mode,
    linkname,
    content,
  }));
}

const OPTIONS: ClosureOptionsInput = { user: 10001, keep: ['/app'] };

let work: string;
async function fakeRootfs(name: string, layout: Layout, extra = {}): Promise<string> {
  const dir = path.join(work, name);
  await writeRootfs(dir, rootfsNodes(layout, extra));
  return dir;
}

/** The closure of a directory, and of the same tree as a tar made by GNU tar: both tars read back. */
async function closureBoth(dir: string, options: ClosureOptionsInput = OPTIONS) {
  const fromDir = sink();
  const dirReport = await closureDirectory(dir, fromDir.stream, options);
  const input = `${dir}.tar`;
  await run('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', input, '.']);
  const fromTar = sink();
  const tarReport = await closureTar(createReadStream(input), fromTar.stream, options);
  const read = async (bytes: Buffer, name: string): Promise<Member[]> => {
    const file = path.join(work, name);
    await writeFile(file, bytes);
    return readTar(file);
  };
  return {
    dirReport,
    tarReport,
    dirMembers: await read(fromDir.bytes(), `${path.basename(dir)}-dir-out.tar`),
    tarMembers: await read(fromTar.bytes(), `${path.basename(dir)}-tar-out.tar`),
  };
}

const files = (members: Member[]): string[] =>
  members
    .filter((m) => m.type !== '5')
    .map((m) => m.name.replace(/^\.\//, ''))
    .sort();

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), '4pass-closure-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const EXT = 'cpython-311-x86_64-linux-gnu.so';
const SITE = 'opt/venv/lib/python3.11/site-packages';

describe('closure of a Debian python3 layout (/usr/bin/python3.11, /usr/lib/python3.11)', () => {
  let result: Awaited<ReturnType<typeof closureBoth>>;
  beforeAll(async () => {
    result = await closureBoth(await fakeRootfs('debian', 'debian'));
  });

  it('keeps exactly the interpreter, its libraries, the stdlib minus the excluded, venv, app and system files', () => {
    const ml = 'usr/lib/x86_64-linux-gnu';
    expect(files(result.dirMembers)).toEqual(
      [
        // interpreter and the symlinks from the venv to it
        'usr/bin/python3',
        'usr/bin/python3.11',
        // the loader through merged-/usr links, the libraries through /lib (the first default directory)
        'lib',
        'lib64',
        'usr/lib64/ld-linux-x86-64.so.2',
        `${ml}/ld-linux-x86-64.so.2`,
        `${ml}/libc.so.6`,
        `${ml}/libm.so.6`,
        `${ml}/libz.so.1`,
        `${ml}/libz.so.1.2.13`,
        `${ml}/libssl.so.3`,
        `${ml}/libcrypto.so.3`,
        `${ml}/libgcc_s.so.1`,
        // the standard library without tests, distutils, ensurepip, bytecode, the build's config, _curses
        'usr/lib/python3.11/LICENSE.txt',
        'usr/lib/python3.11/abc.py',
        'usr/lib/python3.11/cmd.py',
        'usr/lib/python3.11/json/__init__.py',
        'usr/lib/python3.11/json/decoder.py',
        `usr/lib/python3.11/lib-dynload/_json.${EXT}`,
        `usr/lib/python3.11/lib-dynload/_ssl.${EXT}`,
        'usr/lib/python3.11/os.py',
        'usr/lib/python3.11/sitecustomize.py',
        'etc/python3.11/sitecustomize.py',
        'usr/lib/python3.11/unittest/__init__.py',
        'usr/lib/python3.11/unittest/case.py',
        // the venv and the app, whole
        'opt/venv/bin/python',
        'opt/venv/bin/python3',
        'opt/venv/bin/python3.11',
        'opt/venv/lib64',
        'opt/venv/pyvenv.cfg',
        `${SITE}/pkg-1.0.dist-info/METADATA`,
        `${SITE}/pkg.libs/libvendored-1a2b3c.so.1`,
        `${SITE}/pkg/__init__.py`,
        `${SITE}/pkg/native.${EXT}`,
        'app/worker/__init__.py',
        'app/worker/__main__.py',
        'app/worker/helpers.py',
        // accounts, name service order, and TLS where OpenSSL looks (OPENSSLDIR of the kept libcrypto)
        'etc/group',
        'etc/nsswitch.conf',
        'etc/passwd',
        'etc/ssl/certs/ca-certificates.crt',
        'etc/ssl/openssl.cnf',
        'usr/lib/ssl/cert.pem',
        'usr/lib/ssl/certs',
        'usr/lib/ssl/openssl.cnf',
        // the C.UTF-8 locale the Python images set in LANG
        'usr/lib/locale/C.utf8/LC_CTYPE',
      ].sort(),
    );
  });

  it('writes the accounts lines of the runtime user only, and an empty /tmp with mode 1777', () => {
    const byName = new Map(result.dirMembers.map((m) => [m.name.replace(/^\.\//, ''), m]));
    expect(byName.get('etc/passwd')?.content).toBe('worker:x:10001:10001::/nonexistent:/usr/sbin/nologin\n');
    expect(byName.get('etc/group')?.content).toBe('worker:x:10001:\nmetrics:x:2000:daemon,worker\n');
    expect(byName.get('tmp')).toMatchObject({ type: '5', mode: 0o1777 });
    expect([...byName.keys()].filter((n) => n.startsWith('tmp/'))).toEqual([]);
    expect(byName.get('usr/lib/ssl/cert.pem')?.linkname).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('says why each library is there, and what it left out', () => {
    const r = result.dirReport;
    const lib = (p: string) => r.libraries.find((l) => l.path.endsWith(p));
    expect(r.libraries[0]).toMatchObject({
      path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      via: 'program-interpreter',
      links: ['/lib64', '/usr/lib64/ld-linux-x86-64.so.2'],
    });
    expect(lib('libssl.so.3')).toMatchObject({
      via: 'default-dirs',
      neededBy: [`/usr/lib/python3.11/lib-dynload/_ssl.${EXT}`],
    });
    expect(lib('libcrypto.so.3')?.neededBy).toEqual(['/usr/lib/x86_64-linux-gnu/libssl.so.3']);
    expect(lib('libz.so.1.2.13')).toMatchObject({
      links: ['/lib', '/usr/lib/x86_64-linux-gnu/libz.so.1'],
      neededBy: ['/usr/bin/python3.11'],
    });
    expect(lib('libvendored-1a2b3c.so.1')).toMatchObject({ via: 'rpath', neededBy: [`/${SITE}/pkg/native.${EXT}`] });
    expect(lib('libgcc_s.so.1')).toMatchObject({ via: 'dlopen', neededBy: [expect.stringContaining('pthread_exit')] });
    expect(r.libraries.map((l) => l.path)).not.toContain('/usr/lib/x86_64-linux-gnu/libncursesw.so.6');
    expect(r.ldSoCache.kept).toBe(false);
    expect(r.caBundle).toBe('/etc/ssl/certs/ca-certificates.crt');
    expect(r.interpreter).toMatchObject({
      executable: '/usr/bin/python3.11',
      stdlib: '/usr/lib/python3.11',
      venv: '/opt/venv',
    });
    expect(r.stdlib.dropped).toContainEqual({ module: '_distutils_system_mod', reason: 'imports distutils.sysconfig' });
    expect(r.conditionalImports).toEqual([
      { file: '/usr/lib/python3.11/cmd.py', line: 4, module: 'readline' },
      { file: '/app/worker/__main__.py', line: 5, module: 'curses' },
    ]);
    expect(formatClosureReport(r)).toMatch(/shared libraries\s+[\d.]+ kB in 12 files/);
  });

  it('counts bytes per part that add up to the written tree', async () => {
    const r = result.dirReport;
    const size = async (p: string): Promise<number> => (await stat(path.join(ELF_DIR, p))).size;
    expect(r.parts.interpreter).toEqual({ bytes: await size('python-debian'), files: 2 });
    // The vendored library counts as a shared library, the rest of the venv as the venv.
    expect(r.parts.venv.files).toBe(8);
    expect(r.parts.sharedLibraries.files).toBe(12);
    const written = result.dirMembers.filter((m) => m.type !== '5');
    expect(r.after.files).toBe(written.length);
    expect(r.after.bytes).toBe(written.reduce((a, m) => a + m.content.length, 0));
    expect(r.before.files).toBeGreaterThan(r.after.files);
  });

  it('a tar stream of the same tree gives the same tree and the same report', () => {
    expect(files(result.tarMembers)).toEqual(files(result.dirMembers));
    const contents = (ms: Member[]) =>
      ms
        .filter((m) => m.type !== '5')
        .map((m) => [m.name.replace(/^\.\//, ''), m.content, m.linkname])
        .sort();
    expect(contents(result.tarMembers)).toEqual(contents(result.dirMembers));
    expect(result.tarMembers.find((m) => m.name.replace(/^\.\//, '') === 'tmp')?.mode).toBe(0o1777);
    const { before: _a, ...tarReport } = result.tarReport;
    const { before: _b, ...dirReport } = result.dirReport;
    expect(tarReport).toEqual(dirReport);
  });
});

/** A dpkg database for the Debian layout: who installed which of its files (merged /usr: lists name /lib/…). */
const ML = 'lib/x86_64-linux-gnu';
const DPKG: Record<string, string | { link: string }> = {
  'var/lib/dpkg/status':
    [
      'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u14\n' +
        'Conffiles:\n /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab\n' +
        'Description: GNU C Library: Shared libraries\n Contains the standard libraries.',
      'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1',
      'Package: libncursesw6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.4-4',
      'Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.20-1~deb12u2\n' +
        'Conffiles:\n /etc/ssl/openssl.cnf fe1993ec22f6b8a46cb9706acd8fc68f',
      'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u15',
      'Package: ca-certificates\nStatus: install ok installed\nArchitecture: all\nVersion: 20230311+deb12u1',
      'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1',
    ].join('\n\n') + '\n',
  'var/lib/dpkg/info/libc6:amd64.list': `/.\n/lib\n/${ML}\n/${ML}/libc.so.6\n/${ML}/libm.so.6\n/${ML}/libanl.so.1\n/usr/share/doc/libc6/copyright\n`,
  'var/lib/dpkg/info/libc6:amd64.md5sums':
    `11111111111111111111111111111111  ${ML}/libc.so.6\n22222222222222222222222222222222  ${ML}/libm.so.6\n` +
    `33333333333333333333333333333333  ${ML}/libanl.so.1\n44444444444444444444444444444444  usr/share/doc/libc6/copyright\n`,
  'var/lib/dpkg/info/zlib1g:amd64.list': `/${ML}/libz.so.1.2.13\n/${ML}/libz.so.1\n`,
  'var/lib/dpkg/info/zlib1g:amd64.md5sums': `55555555555555555555555555555555  ${ML}/libz.so.1.2.13\n`,
  'var/lib/dpkg/info/libncursesw6:amd64.list': `/${ML}/libncursesw.so.6\n/usr/share/doc/libncursesw6/copyright\n`,
  'var/lib/dpkg/info/openssl.list': '/etc/ssl/openssl.cnf\n/usr/bin/openssl\n',
  'var/lib/dpkg/info/base-files.list': '/etc/os-release\n/usr/lib/os-release\n/etc/debian_version\n',
  'var/lib/dpkg/info/base-files.md5sums': '66666666666666666666666666666666  usr/lib/os-release\n',
  // The bundle is made by its postinst from these, so no list names it.
  'var/lib/dpkg/info/ca-certificates.list': '/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt\n',
  'usr/share/doc/libc6/copyright': 'Files: *\nLicense: LGPL-2.1+\n',
  'usr/share/doc/libncursesw6/copyright': 'License: X11\n',
  'usr/lib/os-release': 'ID=debian\nVERSION_ID="12"\n',
  'etc/os-release': { link: '../usr/lib/os-release' },
  'etc/debian_version': '12.15\n',
};

describe('closure records for scanners (status.d, distroless style)', () => {
  let result: Awaited<ReturnType<typeof closureBoth>>;
  let byName: Map<string, Member>;
  beforeAll(async () => {
    result = await closureBoth(await fakeRootfs('dpkg', 'debian', DPKG));
    byName = new Map(result.tarMembers.map((m) => [m.name.replace(/^\.\//, ''), m]));
  });

  it('records each package that owns a kept file, with its copyright file and the distribution, nothing else of dpkg', () => {
    const kept = files(result.tarMembers);
    const d = 'var/lib/dpkg/status.d';
    expect(
      kept.filter((p) => p.startsWith('var/') || p.startsWith('usr/share/doc') || /os-release|debian_v/.test(p)),
    ).toEqual(
      [
        ...['base-files', 'ca-certificates', 'libc6', 'openssl', 'zlib1g'].flatMap((n) => [
          `${d}/${n}`,
          `${d}/${n}.md5sums`,
        ]),
        'usr/share/doc/libc6/copyright',
        'etc/os-release',
        'usr/lib/os-release',
        'etc/debian_version',
      ].sort(),
    );
    // libncursesw6's library was left out (with _curses): no record, no copyright.
    expect(result.tarReport.packages).toEqual([
      { name: 'base-files', version: '12.4+deb12u15', files: 3 },
      { name: 'ca-certificates', version: '20230311+deb12u1', files: 1 },
      { name: 'libc6', version: '2.36-9+deb12u14', files: 3 }, // libc, libm, copyright (/lib is a directory to dpkg)
      { name: 'openssl', version: '3.0.20-1~deb12u2', files: 1 },
      { name: 'zlib1g', version: '1:1.2.13.dfsg-1', files: 2 },
    ]);
    expect(formatClosureReport(result.tarReport)).toContain(
      'Debian packages recorded for scanners (/var/lib/dpkg/status.d): base-files 12.4+deb12u15, ca-certificates',
    );
  });

  it("writes each package's status paragraph (no Conffiles) and the md5sums of its kept files only", () => {
    const d = 'var/lib/dpkg/status.d';
    expect(byName.get(`${d}/libc6`)).toMatchObject({ type: '0', mode: 0o644 });
    expect(byName.get(`${d}/libc6`)?.content).toBe(
      'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u14\n' +
        'Description: GNU C Library: Shared libraries\n Contains the standard libraries.\n',
    );
    // libanl.so.1 was not kept; the copyright was.
    expect(byName.get(`${d}/libc6.md5sums`)?.content).toBe(
      `11111111111111111111111111111111  ${ML}/libc.so.6\n22222222222222222222222222222222  ${ML}/libm.so.6\n` +
        '44444444444444444444444444444444  usr/share/doc/libc6/copyright\n',
    );
    // A kept conffile gets its line from the Conffiles field.
    expect(byName.get(`${d}/openssl.md5sums`)?.content).toBe('fe1993ec22f6b8a46cb9706acd8fc68f  etc/ssl/openssl.cnf\n');
    // The CA bundle ca-certificates' postinst made: recorded as its, with the bundle's MD5.
    const bundle = byName.get('etc/ssl/certs/ca-certificates.crt')?.content ?? '';
    const md5 = createHash('md5').update(bundle).digest('hex');
    expect(byName.get(`${d}/ca-certificates.md5sums`)?.content).toBe(`${md5}  etc/ssl/certs/ca-certificates.crt\n`);
  });

  it('writes the same records from a directory and from a tar stream, counted in what was written', () => {
    const contents = (ms: Member[]) =>
      ms
        .filter((m) => m.type !== '5')
        .map((m) => [m.name.replace(/^\.\//, ''), m.content, m.linkname])
        .sort();
    expect(contents(result.dirMembers)).toEqual(contents(result.tarMembers));
    const written = result.tarMembers.filter((m) => m.type !== '5');
    expect(result.tarReport.written.files).toBe(written.length);
    expect(result.tarReport.written.bytes).toBe(written.reduce((a, m) => a + m.content.length, 0));
  });
});

describe('closure of the official python image layout (/usr/local, libpython, RUNPATH $ORIGIN/../lib)', () => {
  let report: ClosureReport;
  let kept: string[];
  beforeAll(async () => {
    const dir = await fakeRootfs('official', 'official', {
      'etc/ld.so.cache': { elf: 'ld.so.cache' },
    });
    const r = await closureBoth(dir);
    report = r.tarReport;
    kept = files(r.tarMembers);
  });

  it('finds the interpreter from the venv, libpython through RUNPATH, and the extensions reuse it', () => {
    expect(report.interpreter).toMatchObject({
      executable: '/usr/local/bin/python3.11',
      stdlib: '/usr/local/lib/python3.11',
      links: ['/opt/venv/bin/python', '/opt/venv/bin/python3', '/usr/local/bin/python3'],
    });
    const libpython = report.libraries.find((l) => l.path === '/usr/local/lib/libpython3.11.so.1.0');
    expect(libpython).toMatchObject({
      via: 'runpath',
      neededBy: ['/usr/local/bin/python3.11', `/usr/local/lib/python3.11/lib-dynload/_json.${EXT}`],
    });
    // /usr/local/lib is no default directory, yet nothing needs the cache: the loaded libpython is reused.
    expect(report.ldSoCache.kept).toBe(false);
    expect(kept).not.toContain('etc/ld.so.cache');
    expect(kept).not.toContain('usr/local/lib/libpython3.11.so');
    expect(kept.filter((p) => p.includes('site-packages/pip'))).toEqual([]);
  });
});

describe('closure output for image builds', () => {
  it('leaves out the omitted trees and gives directories one mtime, so the same image gives the same bytes', async () => {
    const dir = await fakeRootfs('omit', 'debian');
    const options = { ...OPTIONS, omit: ['/opt/venv', '/app'] };
    const outputs: Buffer[] = [];
    for (const stamp of ['200001010000', '203001010000']) {
      // A container export's /etc changes whenever the engine creates a container.
      await run('touch', ['-t', stamp, path.join(dir, 'etc')]);
      await run('tar', ['-C', dir, '-cf', `${dir}.tar`, '.']);
      const out = sink();
      const report = await closureTar(createReadStream(`${dir}.tar`), out.stream, options, {
        directoryMtime: new Date(0),
      });
      expect(report.parts.venv.files).toBe(8); // analysed and reported…
      expect(report.written.files).toBeLessThan(report.after.files); // …not written
      outputs.push(out.bytes());
    }
    expect(outputs[0]?.equals(outputs[1] ?? Buffer.alloc(0))).toBe(true);
    const file = path.join(work, 'omit-out.tar');
    await writeFile(file, outputs[0] ?? Buffer.alloc(0));
    const members = await readTar(file);
    expect(members.filter((m) => /^(\.\/)?(opt\/venv|app)(\/|$)/.test(m.name))).toEqual([]);
    expect(members.some((m) => m.name.endsWith('usr/bin/python3.11'))).toBe(true);
    const { stdout } = await run(PYTHON, [
      '-c',
      'import sys, tarfile; print({m.mtime for m in tarfile.open(sys.argv[1]) if m.isdir()})',
      file,
    ]);
    expect(stdout.trim()).toBe('{0}');
  });

  it('is part of the optimizer profile (closure), validated with it', () => {
    expect(parseProfile({ closure: { user: 10001 } }).closure).toMatchObject({ user: 10001, omit: [] });
    expect(parseProfile({}).closure).toBeUndefined();
    expect(() => parseProfile({ closure: { user: 10001, keep: ['app'] } })).toThrow(/closure\.keep\.0/);
  });
});

describe('closure edge cases', () => {
  it('keeps /etc/ld.so.cache when only the cache finds a library', async () => {
    const dir = await fakeRootfs('cached', 'debian', {
      'etc/ld.so.cache': { elf: 'ld.so.cache' },
      'opt/lib/libcached.so.1': { elf: 'libcached.so.1' },
      [`${SITE}/cached.${EXT}`]: { elf: 'ext-cached.so' },
    });
    const out = sink();
    const report = await closureDirectory(dir, out.stream, OPTIONS);
    expect(report.libraries.find((l) => l.path === '/opt/lib/libcached.so.1')).toMatchObject({ via: 'ld.so.cache' });
    expect(report.ldSoCache).toMatchObject({ kept: true, why: expect.stringContaining('/opt/lib/libcached.so.1') });
  });

  it('fails, naming file and line, when kept code imports a dropped module at module level', async () => {
    const dir = await fakeRootfs('bad-import', 'debian', { 'app/worker/gui.py': 'import os\nimport tkinter.ttk\n' });
    const err = await closureDirectory(dir, sink().stream, OPTIONS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClosureError);
    expect((err as Error).message).toContain('/app/worker/gui.py:2: imports tkinter.ttk');
    // Kept when it is not excluded any more.
    const ok = await closureDirectory(dir, sink().stream, { ...OPTIONS, stdlib: { exclude: ['test'] } });
    expect(ok.parts.app.files).toBe(4);
  });

  it('fails when a library is missing, the user is unknown, or the venv is not there', async () => {
    const noSsl = await fakeRootfs('no-ssl', 'debian', {});
    await rm(path.join(noSsl, 'usr/lib/x86_64-linux-gnu/libssl.so.3'));
    await expect(closureDirectory(noSsl, sink().stream, OPTIONS)).rejects.toThrow(
      `/usr/lib/python3.11/lib-dynload/_ssl.${EXT} needs libssl.so.3, which the loader would not find`,
    );
    const dir = await fakeRootfs('errors', 'debian');
    await expect(closureDirectory(dir, sink().stream, { ...OPTIONS, user: 'nobody' })).rejects.toThrow(
      /runtime user nobody is not in \/etc\/passwd/,
    );
    await expect(closureDirectory(dir, sink().stream, { ...OPTIONS, venv: '/srv/venv' })).rejects.toThrow(
      /no virtual environment at \/srv\/venv/,
    );
    await expect(closureDirectory(dir, sink().stream, { ...OPTIONS, keep: ['/srv/app'] })).rejects.toThrow(
      /has no \/srv\/app/,
    );
  });

  it('reports every problem of the options at once, before reading anything', async () => {
    const err = await closureDirectory('/nonexistent', sink().stream, {
      user: -1,
      keep: ['app'],
      stdlib: { exclude: ['not a module'] },
    } as unknown as ClosureOptionsInput).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).issues.map((i) => i.path).sort()).toEqual(['keep.0', 'stdlib.exclude.0', 'user']);
  });
});

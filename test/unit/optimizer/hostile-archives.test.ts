// Issue 20, "Names": archive members that would land outside the root, links pointing out, and hard links to
// members that go, through optimizeTar and the closure. The archives are written by Python's tarfile (any name it is
// given) and read back by it and by GNU tar, independent of the code under test.
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProfileError,
  UnsafeMemberError,
  closureTar,
  defaultProfile,
  optimizeTar,
  type ClosureOptionsInput,
} from '@4pass/optimizer';
import { rootfsNodes, writeRootfs } from '../../fixtures/optimizer/rootfs.js';
import { fingerprint } from './hostile-trees.js';
import { sink, tarfileMembers } from './tar-view.js';
import { PYTHON, run } from './wheels.js';

/** A member for {@link writeTar}: a file (with data), a directory, a symlink or a hard link (with linkname). */
interface Spec {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link';
  data?: string;
  linkname?: string;
}

const WRITER = `
import io, json, sys, tarfile
spec = json.load(sys.stdin)
types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE}
with tarfile.open(spec["file"], spec["mode"], format=tarfile.PAX_FORMAT) as t:
    for m in spec["members"]:
        info = tarfile.TarInfo(m["name"])
        info.type = types[m.get("type", "file")]
        info.mode = 0o755 if info.type == tarfile.DIRTYPE else 0o644
        info.linkname = m.get("linkname", "")
        data = m.get("data", "").encode()
        info.size = len(data) if info.type == tarfile.REGTYPE else 0
        t.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
`;

/** Write (or, with `append`, add to) a tar whose member names are exactly as given. */
async function writeTar(file: string, members: Spec[], append = false): Promise<string> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', WRITER], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tarfile writer exited ${code}`))));
    child.stdin.end(JSON.stringify({ file, mode: append ? 'a' : 'w', members }));
  });
  return file;
}

let work: string;
beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(tmpdir(), '4pass-hostile-tar-'));
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

let seq = 0;
const file = (name: string): string => path.join(work, `${++seq}-${name}`);

/** A small site-packages: `x` kept (its RECORD lists a stale pyc, so it is rewritten), `pip` removed. */
const SITE: Spec[] = [
  { name: 'x-1.0.dist-info/METADATA', data: 'Name: x\nVersion: 1.0\n\n' },
  {
    name: 'x-1.0.dist-info/RECORD',
    data: 'x/__init__.py,,\nx/__pycache__/gone.cpython-311.pyc,,\nx-1.0.dist-info/RECORD,,\n',
  },
  { name: 'x/__init__.py', data: 'x = 1\n' },
  { name: 'x/__pycache__/gone.cpython-311.pyc', data: 'stale' },
  { name: 'pip-1.0.dist-info/METADATA', data: 'Name: pip\nVersion: 1.0\n\n' },
  { name: 'pip-1.0.dist-info/RECORD', data: 'pip/__init__.py,,\npip/big.py,,\n' },
  { name: 'pip/__init__.py', data: '' },
  { name: 'pip/big.py', data: 'the bytes the links share\n' },
];

const UNSAFE: [Spec[], string, string][] = [
  [[{ name: '../x-escape.py', data: 'evil' }], '../x-escape.py', "a '..' in its name"],
  [[{ name: '/abs-escape.py', data: 'evil' }], '/abs-escape.py', 'an absolute name'],
  [[{ name: 'x/../etc/cron.d/evil', data: 'evil' }], 'x/../etc/cron.d/evil', "a '..' in its name"],
  [[{ name: 'x/up', type: 'symlink', linkname: '../../etc' }], 'x/up', 'a symlink pointing outside the archive'],
  [
    [
      { name: 'x/etc', type: 'symlink', linkname: '/etc' },
      { name: 'x/etc/cron.d/evil', data: 'evil' },
    ],
    'x/etc/cron.d/evil',
    'below the symlink member x/etc',
  ],
  [[{ name: 'x/pw', type: 'link', linkname: '../etc/passwd' }], 'x/pw', "a hard link to a '..' in its name"],
];

describe('optimizeTar: names that would land outside the root', () => {
  it.each(UNSAFE.map(([extra, member, reason]) => ({ extra, member, reason })))(
    'refuses $member: $reason',
    async ({ extra, member, reason }) => {
      const s = sink();
      const input = createReadStream(await writeTar(file('unsafe.tar'), [...SITE, ...extra]));
      const err = await optimizeTar(input, s.stream, defaultProfile).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeMemberError);
      expect(err).toMatchObject({ member, reason });
      expect(s.bytes().length).toBe(0);
    },
  );

  it('drops and reports them with dropUnsafeMembers; the output unpacks inside its directory', async () => {
    const input = await writeTar(file('unsafe-all.tar'), [...SITE, ...UNSAFE.flatMap(([m]) => m)]);
    const s = sink();
    const report = await optimizeTar(createReadStream(input), s.stream, defaultProfile, { dropUnsafeMembers: true });
    expect(report.droppedMembers).toEqual(UNSAFE.map(([, name, reason]) => ({ name, reason })));
    const out = file('safe-out.tar');
    await fsp.writeFile(out, s.bytes());
    const names = (await tarfileMembers(out)).map((m) => m.name);
    expect(names).toEqual(['x-1.0.dist-info/METADATA', 'x-1.0.dist-info/RECORD', 'x/__init__.py', 'x/etc']);
    // Unpacked where a canary sits beside the target: nothing lands outside.
    const parent = file('unpack');
    await fsp.mkdir(path.join(parent, 'into'), { recursive: true });
    await fsp.writeFile(path.join(parent, 'canary'), 'c');
    const before = fingerprint(parent);
    await run('tar', ['-C', path.join(parent, 'into'), '-xf', out]);
    expect(
      fingerprint(parent)
        .split('\n')
        .filter((l) => !l.startsWith('into')),
    ).toEqual(before.split('\n').filter((l) => !l.startsWith('into')));
  });
});

describe('optimizeTar: hard links to members that go', () => {
  it('a kept link to a removed file becomes that file; a second one links to it; the output unpacks', async () => {
    const input = await writeTar(file('links.tar'), [
      ...SITE,
      { name: 'x/copy.py', type: 'link', linkname: 'pip/big.py' },
      { name: 'x/copy2.py', type: 'link', linkname: './pip/big.py' },
    ]);
    const s = sink();
    const report = await optimizeTar(createReadStream(input), s.stream, defaultProfile);
    const out = file('links-out.tar');
    await fsp.writeFile(out, s.bytes());
    const members = await tarfileMembers(out, { content: true });
    const byName = new Map(members.map((m) => [m.name, m]));
    expect(byName.has('pip/big.py')).toBe(false);
    expect(byName.get('x/copy.py')).toMatchObject({ type: '0', content: 'the bytes the links share\n', mode: 0o644 });
    expect(byName.get('x/copy2.py')).toMatchObject({ type: '1', linkname: 'x/copy.py' });
    const regular = members.filter((m) => m.type === '0');
    expect(report.after.bytes).toBe(regular.reduce((a, m) => a + m.size, 0));
    const dir = file('links-unpacked');
    await fsp.mkdir(dir);
    await run('tar', ['-C', dir, '-xf', out]);
    expect(await fsp.readFile(path.join(dir, 'x/copy2.py'), 'utf8')).toBe('the bytes the links share\n');
  });

  it('a link to a rewritten RECORD keeps the old content, and the report says the link was split', async () => {
    const input = await writeTar(file('split.tar'), [
      ...SITE,
      { name: 'x/RECORD.bak', type: 'link', linkname: 'x-1.0.dist-info/RECORD' },
    ]);
    const s = sink();
    const report = await optimizeTar(createReadStream(input), s.stream, defaultProfile);
    expect(report.hardLinksSplit).toEqual(['x-1.0.dist-info/RECORD']);
    const out = file('split-out.tar');
    await fsp.writeFile(out, s.bytes());
    const byName = new Map((await tarfileMembers(out, { content: true })).map((m) => [m.name, m]));
    expect(byName.get('x/RECORD.bak')).toMatchObject({ type: '0', content: SITE[1]?.data });
    expect(byName.get('x-1.0.dist-info/RECORD')?.content).not.toContain('gone.cpython-311.pyc');
  });
});

describe('closure: names that would land outside the root, and the keep paths', () => {
  const OPTIONS: ClosureOptionsInput = { user: 10001, keep: ['/app'] };
  let base: string;
  beforeAll(async () => {
    const dir = file('rootfs');
    await writeRootfs(dir, rootfsNodes('debian'));
    base = `${dir}.tar`;
    await run('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', base, '.']);
  });

  async function withExtra(members: Spec[]): Promise<string> {
    const copy = file('rootfs-extra.tar');
    await fsp.copyFile(base, copy);
    return writeTar(copy, members, true);
  }

  it("refuses app/../etc/cron.d/evil, which keep: ['/app'] matched before", async () => {
    const input = await withExtra([{ name: 'app/../etc/cron.d/evil', data: '* * * * * root evil\n' }]);
    const s = sink();
    const err = await closureTar(createReadStream(input), s.stream, OPTIONS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeMemberError);
    expect(err).toMatchObject({ member: 'app/../etc/cron.d/evil' });
    expect(s.bytes().length).toBe(0);
  });

  it('drops and reports it with dropUnsafeMembers', async () => {
    const input = await withExtra([{ name: 'app/../etc/cron.d/evil', data: 'evil' }]);
    const s = sink();
    const report = await closureTar(createReadStream(input), s.stream, OPTIONS, { dropUnsafeMembers: true });
    expect(report.droppedMembers).toEqual([{ name: 'app/../etc/cron.d/evil', reason: "a '..' in its name" }]);
    const out = file('closure-out.tar');
    await fsp.writeFile(out, s.bytes());
    const names = (await tarfileMembers(out)).map((m) => m.name.replace(/^\.\//, ''));
    expect(names.filter((n) => n.includes('cron'))).toEqual([]);
    expect(names).toContain('app/worker/__main__.py');
  });

  it("keep matches normalised paths ('//app/./' is /app); '..' in an option is refused", async () => {
    const a = await closureTar(createReadStream(base), sink().stream, OPTIONS);
    const b = await closureTar(createReadStream(base), sink().stream, { ...OPTIONS, keep: ['//app/./'] });
    expect(b.parts.app).toEqual(a.parts.app);
    expect(a.parts.app.files).toBe(3);
    const err = await closureTar(createReadStream(base), sink().stream, { ...OPTIONS, keep: ['/app/../etc'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).issues).toEqual([
      { path: 'keep.0', message: "must not contain '..' (name the directory itself)" },
    ]);
  });

  it('a kept hard link whose target is omitted becomes a file, so the output unpacks', async () => {
    const target = 'opt/venv/lib/python3.11/site-packages/pkg/__init__.py';
    const input = await withExtra([{ name: 'app/worker/linked.py', type: 'link', linkname: target }]);
    const s = sink();
    await closureTar(createReadStream(input), s.stream, { ...OPTIONS, omit: ['/opt/venv'] });
    const out = file('closure-links.tar');
    await fsp.writeFile(out, s.bytes());
    const byName = new Map((await tarfileMembers(out, { content: true })).map((m) => [m.name.replace(/^\.\//, ''), m]));
    expect(byName.has(target)).toBe(false);
    expect(byName.get('app/worker/linked.py')).toMatchObject({
      type: '0',
      content: 'import json\nfrom . import native\n',
    });
    const dir = file('closure-unpacked');
    await fsp.mkdir(dir);
    await run('tar', ['-C', dir, '-xf', out]);
  });
});

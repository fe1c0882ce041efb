import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeLongName,
  decodeNumber,
  decodePaxRecords,
  decodeTarHeader,
} from '../../../packages/optimizer/src/archive/tar-header.js';
import { TarScanner, type ScannedMember } from '../../../packages/optimizer/src/archive/tar-scanner.js';
import { tarfileMembers, type TarfileMember } from './tar-view.js';
import { PYTHON, run } from './wheels.js';

/** What Python's tarfile (an encoder/decoder independent of ours) sees in an archive. */
type PyMember = Omit<TarfileMember, 'sha256' | 'content'>;

/** Python's tarfile view of the tar (mtime as a whole number of seconds, as the header field holds it). */
async function pythonView(file: string): Promise<PyMember[]> {
  return (await tarfileMembers(file)).map(({ sha256: _sha, content: _content, mtime, ...m }) => ({
    ...m,
    mtime: Math.trunc(mtime),
  }));
}

function scan(bytes: Buffer, chunk: number): ScannedMember[] {
  const found: ScannedMember[] = [];
  const scanner = new TarScanner((m) => found.push(m));
  for (let i = 0; i < bytes.length; i += chunk) scanner.push(bytes.subarray(i, i + chunk));
  scanner.end();
  return found;
}

const TYPE_OF_FLAG: Record<string, string> = { '0': 'file', '2': 'symlink', '5': 'directory', '1': 'link' };

let work: string;
let tree: string;
const longDir = `${'d'.repeat(90)}/${'e'.repeat(90)}`;
const longName = `${longDir}/${'f'.repeat(120)}.py`;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), '4pass-tar-header-'));
  tree = path.join(work, 'tree');
  await mkdir(path.join(tree, longDir), { recursive: true });
  await writeFile(path.join(tree, longName), 'x = 1\n');
  await writeFile(path.join(tree, 'ünïcode-名前.txt'), 'u');
  await writeFile(path.join(tree, 'empty'), '');
  await writeFile(path.join(tree, 'big.bin'), Buffer.alloc(70_000, 7));
  await symlink(`${'t'.repeat(150)}/target`, path.join(tree, 'long-link'));
  await symlink('empty', path.join(tree, 'short-link'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('decodeTarHeader and TarScanner agree with Python tarfile', () => {
  for (const format of ['gnu', 'posix', 'ustar', 'oldgnu']) {
    it(`GNU tar --format=${format}: names, long names, links, owners, modes, sizes and data offsets`, async () => {
      const file = path.join(work, `${format}.tar`);
      // ustar cannot hold the 120-character file name: leave it out there.
      const exclude = format === 'ustar' ? ['--exclude', `./${longName}`, '--exclude', './long-link'] : [];
      await run('tar', [
        '-C',
        tree,
        `--format=${format}`,
        '--owner=app:1234',
        '--group=grp:2345',
        ...exclude,
        '-cf',
        file,
        '.',
      ]);
      const bytes = await readFile(file);
      const expected = await pythonView(file);
      for (const chunk of [1 << 20, 511, 7]) {
        const members = scan(bytes, chunk);
        const norm = (n: string): string => n.replace(/\/$/, '').replace(/^\.\//, '');
        expect(members.map((m) => norm(m.header.name))).toEqual(expected.map((m) => norm(m.name)));
        members.forEach((m, i) => {
          const py = expected[i] as PyMember;
          expect(m.header.type).toBe(TYPE_OF_FLAG[py.type]);
          expect(m.header.size).toBe(py.type === '0' ? py.size : m.header.size);
          expect(m.header.mode & 0o7777).toBe(py.mode);
          expect([m.header.uid, m.header.gid, m.header.uname, m.header.gname]).toEqual([1234, 2345, 'app', 'grp']);
          expect(m.header.mtime.getTime() / 1000).toBe(py.mtime);
          expect(m.header.linkname).toBe(py.linkname);
          expect(m.start).toBe(py.offset);
          expect(m.dataStart).toBe(py.offset_data);
        });
      }
      if (format !== 'ustar') {
        const names = scan(bytes, 4096).map((m) => m.header.name);
        expect(names).toContain(`./${longName}`);
      }
    });
  }

  it('Python tarfile pax archives with a global header and non-ASCII names', async () => {
    const file = path.join(work, 'py-pax.tar');
    const program = `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'global'}) as t:
    for name, data in [('ünï/名前.txt', b'abc'), ('x' * 200, b''), ('plain', b'1' * 513)]:
        info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 1700000000; info.mode = 0o640
        info.uname = 'ü'; info.uid = 7; info.gid = 8
        t.addfile(info, io.BytesIO(data))
`;
    await run(PYTHON, ['-c', program, file]);
    const expected = await pythonView(file);
    const members = scan(await readFile(file), 100);
    expect(members.map((m) => [m.header.name, m.header.size, m.header.pax?.uname, m.dataStart])).toEqual(
      expected.map((m) => [m.name, m.size, m.uname, m.offset_data]),
    );
    // A member starts at its extension blocks; the first one's include the global header at 0.
    expect(members.map((m) => m.start)).toEqual([0, ...expected.slice(1).map((m) => m.offset)]);
    // Like tar-stream, path, linkpath and size come from pax records; the rest stays in `pax`.
    expect(members[0]?.header.pax).toMatchObject({ comment: 'global', path: 'ünï/名前.txt', uname: 'ü' });
  });
});

describe('decodeTarHeader on hand-made blocks', () => {
  /** A ustar block with a valid checksum. */
  function block(fields: { name?: string; size?: string | Buffer; flag?: string; magic?: string }): Buffer {
    const b = Buffer.alloc(512);
    b.write(fields.name ?? 'a', 0);
    b.write('0000644\0', 100);
    b.write('0000000\0', 108);
    b.write('0000000\0', 116);
    if (Buffer.isBuffer(fields.size)) fields.size.copy(b, 124);
    else b.write(fields.size ?? '00000000012\0', 124);
    b.write('00000000000\0', 136);
    b.write(fields.flag ?? '0', 156);
    b.write(fields.magic ?? 'ustar\u000000', 257, 'latin1');
    let sum = 8 * 32;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += b[i] ?? 0;
    b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    return b;
  }

  it('zero block is null; a bad checksum and an unknown magic throw', () => {
    expect(decodeTarHeader(Buffer.alloc(512))).toBeNull();
    const b = block({});
    expect(decodeTarHeader(b)?.size).toBe(10);
    b[0] = 'b'.charCodeAt(0);
    expect(() => decodeTarHeader(b)).toThrow(/Invalid tar header/);
    expect(() => decodeTarHeader(block({ magic: 'nope\0\0' }))).toThrow(/unknown format/);
  });

  it('GNU base-256 sizes, old-style directories and extension types', () => {
    const big = Buffer.alloc(12);
    big[0] = 0x80;
    big.writeUIntBE(9_000_000_000, 6, 6);
    expect(decodeTarHeader(block({ size: big }))?.size).toBe(9_000_000_000);
    expect(decodeTarHeader(block({ name: 'dir/', flag: '\0' }))?.type).toBe('directory');
    expect(decodeTarHeader(block({ flag: 'x' }))?.type).toBe('pax-header');
    expect(decodeTarHeader(block({ flag: 'g' }))?.type).toBe('pax-global-header');
    expect(decodeTarHeader(block({ flag: 'L' }))?.type).toBe('gnu-long-path');
    expect(decodeTarHeader(block({ flag: 'K' }))?.type).toBe('gnu-long-link-path');
    expect(decodeTarHeader(block({ flag: 'S' }))?.type).toBeNull();
  });

  it('numbers with leading spaces, and garbage', () => {
    expect(decodeNumber(Buffer.from('   755 \0'), 0, 8)).toBe(0o755);
    expect(decodeNumber(Buffer.from('\0\0\0\0\0\0\0\0'), 0, 8)).toBe(0);
    expect(decodeNumber(Buffer.from('12x45   '), 0, 8)).toBeNaN();
  });

  it('pax records and GNU long names', () => {
    const records = Buffer.from('14 path=ab cd\n22 linkpath=ü/target\n11 bad\n');
    expect(decodePaxRecords(records)).toEqual({ path: 'ab cd', linkpath: 'ü/target' });
    expect(decodeLongName(Buffer.from('some/long/name\0\0\0'))).toBe('some/long/name');
  });

  it('the scanner rejects a truncated member and an oversized extension header', () => {
    const header = block({});
    expect(() => scan(header, 512)).toThrow(/Unexpected end of data/);
    const pax = block({ flag: 'x', size: '00004000001\0' });
    expect(() => scan(pax, 512)).toThrow(/exceeds max size/);
  });
});

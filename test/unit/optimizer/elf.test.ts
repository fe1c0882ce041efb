import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isElf, parseElf, readElf } from '../../../packages/optimizer/src/closure/elf.js';
import { lookupLdCache, parseLdCache } from '../../../packages/optimizer/src/closure/ld-cache.js';
import { run } from './wheels.js';

const ELF_DIR = fileURLToPath(new URL('../../fixtures/optimizer/elf/', import.meta.url));

/** What binutils' readelf says about a file (the oracle, independent of the parser under test). */
async function readelf(file: string) {
  const { stdout: dyn } = await run('readelf', ['-d', '-l', '-h', '--wide', file]);
  const all = (re: RegExp): string[] => [...dyn.matchAll(re)].map((m) => m[1] ?? '');
  return {
    class: /Class:\s+ELF(\d+)/.exec(dyn)?.[1] === '32' ? 32 : 64,
    interpreter: /Requesting program interpreter: ([^\]]+)\]/.exec(dyn)?.[1],
    needed: all(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g),
    soname: /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dyn)?.[1],
    rpath: all(/\(RPATH\)\s+Library rpath: \[([^\]]+)\]/g).flatMap((s) => s.split(':')),
    runpath: all(/\(RUNPATH\)\s+Library runpath: \[([^\]]+)\]/g).flatMap((s) => s.split(':')),
  };
}

describe('parseElf', () => {
  it('agrees with readelf on every fixture (executables, libraries, RPATH and RUNPATH, 32-bit)', async () => {
    const files = (await readdir(ELF_DIR)).filter((f) => f !== 'ld.so.cache' && !f.endsWith('.sh'));
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const info = parseElf(await readFile(path.join(ELF_DIR, f)));
      const expected = await readelf(path.join(ELF_DIR, f));
      expect({ file: f, ...info }, f).toMatchObject({
        file: f,
        class: expected.class,
        needed: expected.needed,
        rpath: expected.rpath,
        runpath: expected.runpath,
        ...(expected.soname ? { soname: expected.soname } : {}),
        ...(expected.interpreter ? { interpreter: expected.interpreter } : {}),
      });
      if (!expected.interpreter) expect(info.interpreter, f).toBeUndefined();
    }
  });

  it('reads machine and type, and rejects what is not ELF', async () => {
    const exe = parseElf(await readFile(path.join(ELF_DIR, 'python-official')));
    expect([exe.machine, exe.type, exe.class]).toEqual([62, 3, 64]); // ET_DYN: a position-independent executable
    expect(parseElf(await readFile(path.join(ELF_DIR, 'lib32.so')))).toMatchObject({ class: 32, machine: 3 });
    expect(isElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
    expect(() => parseElf(Buffer.from('#!/bin/sh\n'.repeat(10)))).toThrow(/not an ELF file/);
    const truncated = (await readFile(path.join(ELF_DIR, 'libssl.so.3'))).subarray(0, 200);
    expect(() => parseElf(truncated)).toThrow(/malformed ELF file/);
  });
});

describe('readElf', () => {
  it('reads only the parts the loader needs, in small reads, and finds what parseElf finds', async () => {
    const files = (await readdir(ELF_DIR)).filter((f) => f !== 'ld.so.cache' && !f.endsWith('.sh'));
    for (const f of files) {
      const buf = await readFile(path.join(ELF_DIR, f));
      let read = 0;
      const info = await readElf(
        async (at, length) => {
          read += length;
          return buf.subarray(at, at + length);
        },
        buf.length,
        64,
      );
      expect(info, f).toEqual(parseElf(buf));
      if (buf.length > 8192) expect(read, f).toBeLessThan(buf.length / 2);
    }
  });

  it('stops at a malformed file instead of reading on', async () => {
    const buf = await readFile(path.join(ELF_DIR, 'libssl.so.3'));
    await expect(readElf(async (at, length) => buf.subarray(at, at + length), 200, 64)).rejects.toThrow(
      /malformed ELF file/,
    );
  });
});

describe('parseLdCache', () => {
  it('lists what ldconfig -p lists, and looks names up for a machine', async () => {
    const file = path.join(ELF_DIR, 'ld.so.cache');
    const entries = parseLdCache(await readFile(file));
    const { stdout } = await run('ldconfig', ['-p', '-C', file]);
    const expected = [...stdout.matchAll(/^\s+(\S+) \(([^)]*)\) => (\S+)$/gm)].map((m) => [m[1], m[3]]);
    expect(entries.map((e) => [e.name, e.path])).toEqual(expected);
    expect(lookupLdCache(entries, 'libcached.so.1', 62)).toBe('/opt/lib/libcached.so.1');
    expect(lookupLdCache(entries, 'libcached.so.1', 183)).toBeUndefined(); // AArch64 objects: no x86-64 entry
    expect(lookupLdCache(entries, 'libnothere.so.1', 62)).toBeUndefined();
    expect(() => parseLdCache(Buffer.from('not a cache at all, really'))).toThrow(/not a glibc ld.so.cache/);
  });
});

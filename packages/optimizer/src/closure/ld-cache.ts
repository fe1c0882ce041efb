// /etc/ld.so.cache as glibc 2.32+ writes it ("glibc-ld.so.cache1.1"; older files put the old "ld.so-1.7.0" table
// first): a header, entries of { flags, key, value, osversion, hwcap } and a string table. Offsets are relative to
// the start of the new-format header.

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_ENTRY = 12;

/** Architecture bits of an entry's flags that go with an ELF `e_machine` (64-bit objects). */
const ARCH_FLAGS: Readonly<Record<number, number>> = {
  62: 0x0300, // x86-64: FLAG_X8664_LIB64
  183: 0x0a00, // AArch64: FLAG_AARCH64_LIB64
};

/** One library the cache knows: the name the loader asks for, and the path it maps to. */
export interface LdCacheEntry {
  name: string;
  path: string;
  flags: number;
}

function newFormatStart(buf: Buffer): number {
  if (buf.toString('latin1', 0, NEW_MAGIC.length) === NEW_MAGIC) return 0;
  if (buf.toString('latin1', 0, OLD_MAGIC.length) !== OLD_MAGIC) return -1;
  const oldCount = buf.readUInt32LE(OLD_MAGIC.length + 1);
  // The new table follows the old one, aligned to 8 bytes.
  const at = (OLD_MAGIC.length + 1 + 4 + oldCount * OLD_ENTRY + 7) & ~7;
  return buf.toString('latin1', at, at + NEW_MAGIC.length) === NEW_MAGIC ? at : -1;
}

/**
 * The entries of an ld.so.cache file (little-endian, as on x86-64 and AArch64), in file order.
 * @throws Error when the file is not a cache this reader knows
 */
export function parseLdCache(buf: Buffer): LdCacheEntry[] {
  const start = newFormatStart(buf);
  if (start < 0) throw new Error('not a glibc ld.so.cache (glibc-ld.so.cache1.1)');
  const count = buf.readUInt32LE(start + NEW_MAGIC.length);
  const str = (offset: number): string => {
    const at = start + offset;
    const end = buf.indexOf(0, at);
    if (end < 0) throw new Error('ld.so.cache string runs past the end');
    return buf.toString('utf8', at, end);
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + NEW_HEADER + i * NEW_ENTRY;
    out.push({ flags: buf.readInt32LE(at), name: str(buf.readUInt32LE(at + 4)), path: str(buf.readUInt32LE(at + 8)) });
  }
  return out;
}

/** The path the cache gives for `name` for objects of `machine` (the first match, as the loader takes it). */
export function lookupLdCache(entries: readonly LdCacheEntry[], name: string, machine: number): string | undefined {
  const arch = ARCH_FLAGS[machine];
  return entries.find((e) => e.name === name && (arch === undefined || (e.flags & 0xff00) === arch))?.path;
}

import type { Header } from 'tar-stream';

// A decoder for the 512-byte header blocks of ustar, GNU and pax archives. tar-stream exports only pack/extract,
// whose per-entry streams cost ~15 µs per member and pass every data byte through; the scanner needs headers and
// offsets only. Its header codec is not public API (not in its package `exports`), so this is our own, decoding the
// fields as POSIX.1-2001 (pax) and GNU tar define them, into tar-stream's `Header` shape so a member can be
// re-encoded by tar-stream's pack unchanged.

/** The type of an extension block, which applies to the member that follows it. */
export type ExtensionType = 'gnu-long-path' | 'gnu-long-link-path' | 'pax-global-header' | 'pax-header';

/** A member's header, in tar-stream's `Header` shape; `type` is null for a typeflag tar-stream does not know. */
export interface TarHeader extends Omit<Header, 'type' | 'pax'> {
  type: Header['type'] | null;
  /** The member's pax records (global ones included), or null. */
  pax: Record<string, string> | null;
}

/** A decoded header block: a member's header, or an extension block (`size` bytes of data follow). */
export interface RawHeader extends Omit<TarHeader, 'type'> {
  type: TarHeader['type'] | ExtensionType;
}

/** True for the blocks that extend the header of the next member. */
export function isExtension(type: RawHeader['type']): type is ExtensionType {
  return (
    type === 'gnu-long-path' || type === 'gnu-long-link-path' || type === 'pax-global-header' || type === 'pax-header'
  );
}

const TYPES: Readonly<Record<number, Header['type'] | ExtensionType>> = {
  0: 'file',
  1: 'link',
  2: 'symlink',
  3: 'character-device',
  4: 'block-device',
  5: 'directory',
  6: 'fifo',
  7: 'contiguous-file',
  // Typeflags are ASCII: '0'..'7' above, and the letters of the extensions.
  ['x'.charCodeAt(0) - 48]: 'pax-header',
  ['g'.charCodeAt(0) - 48]: 'pax-global-header',
  ['K'.charCodeAt(0) - 48]: 'gnu-long-link-path',
  ['L'.charCodeAt(0) - 48]: 'gnu-long-path',
  ['N'.charCodeAt(0) - 48]: 'gnu-long-path', // old GNU long name
};

const USTAR = Buffer.from('ustar\0', 'latin1');
const GNU = Buffer.from('ustar ', 'latin1');
const GNU_VERSION = Buffer.from(' \0', 'latin1');

/** Bytes `[start, start+length)` up to the first NUL. */
function str(block: Buffer, start: number, length: number): string {
  const nul = block.indexOf(0, start);
  return block.toString('utf8', start, nul < 0 || nul > start + length ? start + length : nul);
}

/** A numeric field: octal digits (leading spaces/NULs, ended by space or NUL) or GNU base-256 (high bit set). */
export function decodeNumber(block: Buffer, start: number, length: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // Base-256, big-endian, two's complement when the first byte is 0xff.
    const negative = first === 0xff;
    if (!negative && first !== 0x80) return NaN;
    let n = 0;
    for (let i = start + 1; i < start + length; i++)
      n = n * 256 + (negative ? 0xff - (block[i] ?? 0) : (block[i] ?? 0));
    return negative ? -n : n;
  }
  let i = start;
  const end = start + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = block[i] ?? 0;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) return NaN;
    n = n * 8 + (c - 0x30);
  }
  return n;
}

/** Unsigned sum of the block with the checksum field counted as eight spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0;
  for (let i = 156; i < 512; i++) sum += block[i] ?? 0;
  return sum;
}

const same = (block: Buffer, at: number, magic: Buffer): boolean =>
  block.compare(magic, 0, magic.length, at, at + magic.length) === 0;

/**
 * Decode one 512-byte header block. Returns `null` for an all-zero block (end-of-archive marker or padding).
 * @throws Error when the checksum does not match or the block is not ustar/GNU
 */
export function decodeTarHeader(block: Buffer): RawHeader | null {
  const sum = checksum(block);
  if (sum === 8 * 0x20) return null;
  if (sum !== decodeNumber(block, 148, 8)) {
    throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  }
  let name = str(block, 0, 100);
  if (same(block, 257, USTAR)) {
    if (block[345] !== 0) name = `${str(block, 345, 155)}/${name}`;
  } else if (!(same(block, 257, GNU) && same(block, 263, GNU_VERSION))) {
    throw new Error('Invalid tar header: unknown format.');
  }
  const flag = block[156] === 0 ? 0 : (block[156] ?? 0) - 48;
  // Old tars mark directories with a trailing slash on a regular-file entry.
  const type = flag === 0 && name.endsWith('/') ? 'directory' : (TYPES[flag] ?? null);
  return {
    name,
    mode: decodeNumber(block, 100, 8),
    uid: decodeNumber(block, 108, 8),
    gid: decodeNumber(block, 116, 8),
    size: decodeNumber(block, 124, 12),
    mtime: new Date(1000 * decodeNumber(block, 136, 12)),
    type,
    linkname: str(block, 157, 100),
    uname: str(block, 265, 32),
    gname: str(block, 297, 32),
    devmajor: decodeNumber(block, 329, 8),
    devminor: decodeNumber(block, 337, 8),
    pax: null,
  };
}

/** The records of a pax extended header (`<length> <key>=<value>\n` each); stops at the first malformed one. */
export function decodePaxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number.parseInt(data.toString('latin1', at, space), 10);
    if (!(length > 0) || at + length > data.length) break;
    const record = data.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq < 0) break;
    records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

/** The name carried by a GNU long-name block (NUL-terminated). */
export function decodeLongName(data: Buffer): string {
  return str(data, 0, data.length);
}

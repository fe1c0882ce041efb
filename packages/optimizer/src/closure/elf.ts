/** What the dynamic loader reads from an ELF file: its interpreter, dependencies and search paths. */
export interface ElfInfo {
  class: 32 | 64;
  /** `e_machine` (62 x86-64, 183 AArch64, 3 i386, …): the loader only links objects of the same class and machine. */
  machine: number;
  /** `ET_EXEC` 2, `ET_DYN` 3. */
  type: number;
  /** PT_INTERP: the program interpreter (dynamic loader) an executable asks for. */
  interpreter?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  soname?: string;
  /** DT_RPATH and DT_RUNPATH, split at ':' (empty when absent). */
  rpath: string[];
  runpath: string[];
  /** DF_1_NODEFLIB: the loader does not search its default directories (nor ld.so.cache) for this object's needs. */
  noDefaultLib: boolean;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_NODEFLIB = 0x800;

/** A part of the file that has not been read yet: {@link readElf} reads it and parses again. */
class NeedBytes {
  constructor(
    readonly at: number,
    readonly length: number,
  ) {}
}

/** The regions of one file read so far (the whole file, for {@link parseElf}). */
class Regions {
  private readonly parts: { at: number; buf: Buffer }[] = [];
  constructor(readonly size: number) {}
  add(at: number, buf: Buffer): void {
    this.parts.push({ at, buf });
  }
  /** The loaded part that holds `at` and reaches furthest, if any. */
  private partAt(at: number): { at: number; buf: Buffer } | undefined {
    let best: { at: number; buf: Buffer } | undefined;
    for (const p of this.parts) {
      if (at >= p.at && at < p.at + p.buf.length && (!best || p.at + p.buf.length > best.at + best.buf.length))
        best = p;
    }
    return best;
  }
  get(at: number, length: number): Buffer {
    if (at < 0 || at + length > this.size) throw new Error(`offset ${at} is past the end`);
    const p = this.partAt(at);
    if (p && at + length <= p.at + p.buf.length) return p.buf.subarray(at - p.at, at - p.at + length);
    throw new NeedBytes(at, length);
  }
  cstring(at: number): string {
    if (at < 0 || at >= this.size) throw new Error(`string at ${at} runs past the end`);
    const p = this.partAt(at);
    const end = p ? p.buf.indexOf(0, at - p.at) : -1;
    if (p && end >= 0) return p.buf.toString('utf8', at - p.at, end);
    if (p && p.at + p.buf.length >= this.size) throw new Error(`string at ${at} runs past the end`);
    throw new NeedBytes(at, p ? 2 * (p.at + p.buf.length - at) : 0);
  }
}

/** Little/big-endian, 32/64-bit field reader over one file. */
class Reader {
  constructor(
    private readonly bytes: Regions,
    readonly is64: boolean,
    private readonly le: boolean,
  ) {}
  u16(at: number): number {
    const b = this.bytes.get(at, 2);
    return this.le ? b.readUInt16LE(0) : b.readUInt16BE(0);
  }
  u32(at: number): number {
    const b = this.bytes.get(at, 4);
    return this.le ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }
  /** An address, offset or size: 4 or 8 bytes (values above 2^53 do not occur in real files). */
  word(at: number): number {
    if (!this.is64) return this.u32(at);
    const b = this.bytes.get(at, 8);
    return Number(this.le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));
  }
  cstring(at: number): string {
    return this.bytes.cstring(at);
  }
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

function programHeaders(r: Reader): Segment[] {
  const phoff = r.word(r.is64 ? 0x20 : 0x1c);
  const phentsize = r.u16(r.is64 ? 0x36 : 0x2a);
  const phnum = r.u16(r.is64 ? 0x38 : 0x2c);
  const out: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    out.push(
      r.is64
        ? { type: r.u32(at), offset: r.word(at + 8), vaddr: r.word(at + 16), filesz: r.word(at + 32) }
        : { type: r.u32(at), offset: r.word(at + 4), vaddr: r.word(at + 8), filesz: r.word(at + 16) },
    );
  }
  return out;
}

/** File offset of a virtual address, through the PT_LOAD segment that maps it. */
function fileOffset(segments: readonly Segment[], vaddr: number): number {
  for (const s of segments) {
    if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return vaddr - s.vaddr + s.offset;
  }
  throw new Error(`address 0x${vaddr.toString(16)} is in no PT_LOAD segment`);
}

/** The dynamic section's (tag, value) pairs up to DT_NULL. */
function dynamicEntries(r: Reader, dynamic: Segment): [number, number][] {
  const size = r.is64 ? 16 : 8;
  const out: [number, number][] = [];
  for (let at = dynamic.offset; at + size <= dynamic.offset + dynamic.filesz; at += size) {
    const tag = r.word(at);
    if (tag === DT_NULL) break;
    out.push([tag, r.word(at + size / 2)]);
  }
  return out;
}

const splitPath = (s: string): string[] => s.split(':');

function readDynamic(r: Reader, segments: readonly Segment[], info: ElfInfo): void {
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return; // statically linked
  const entries = dynamicEntries(r, dynamic);
  const strtab = entries.find(([tag]) => tag === DT_STRTAB)?.[1];
  if (strtab === undefined) throw new Error('dynamic section without DT_STRTAB');
  const strings = fileOffset(segments, strtab);
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) info.needed.push(r.cstring(strings + value));
    else if (tag === DT_SONAME) info.soname = r.cstring(strings + value);
    else if (tag === DT_RPATH) info.rpath.push(...splitPath(r.cstring(strings + value)));
    else if (tag === DT_RUNPATH) info.runpath.push(...splitPath(r.cstring(strings + value)));
    else if (tag === DT_FLAGS_1) info.noDefaultLib = (value & DF_1_NODEFLIB) !== 0;
  }
}

/** True when the bytes start with the ELF magic. */
export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF';
}

function parse(bytes: Regions): ElfInfo {
  const head = bytes.get(0, Math.min(bytes.size, 0x34));
  if (!isElf(head) || bytes.size < 0x34) throw new Error('not an ELF file');
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw new Error('unknown ELF class or byte order');
  try {
    const r = new Reader(bytes, cls === 2, data === 1);
    const info: ElfInfo = {
      class: cls === 2 ? 64 : 32,
      machine: r.u16(0x12),
      type: r.u16(0x10),
      needed: [],
      rpath: [],
      runpath: [],
      noDefaultLib: false,
    };
    const segments = programHeaders(r);
    const interp = segments.find((s) => s.type === PT_INTERP);
    if (interp) info.interpreter = r.cstring(interp.offset);
    readDynamic(r, segments, info);
    return info;
  } catch (err) {
    if (err instanceof NeedBytes) throw err;
    throw new Error(`malformed ELF file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Read the loader-relevant parts of an ELF file from its program headers (section headers may be stripped):
 * PT_INTERP, and DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH and DF_1_NODEFLIB from the dynamic section.
 * @throws Error when the bytes are not a well-formed ELF file
 */
export function parseElf(buf: Buffer): ElfInfo {
  const bytes = new Regions(buf.length);
  bytes.add(0, buf);
  return parse(bytes);
}

/** What {@link readElf} reads at most in all: the parts the loader reads are small. */
const MAX_READ = 16 * 1024 * 1024;

/**
 * {@link parseElf} of a file read in parts (`read(offset, length)`): the headers, the interpreter name, the dynamic
 * section and the strings it names, `chunk` bytes at least at a time, so a library of any size costs a few chunks of
 * memory.
 * @throws Error when it is not a well-formed ELF file, or its loader data is spread over more than 16 MiB
 */
export async function readElf(
  read: (at: number, length: number) => Promise<Buffer>,
  size: number,
  chunk = 64 * 1024,
): Promise<ElfInfo> {
  const bytes = new Regions(size);
  let total = 0;
  for (let at = 0, length = chunk; ;) {
    length = Math.min(Math.max(length, chunk), size - at);
    total += length;
    if (total > MAX_READ) throw new Error('malformed ELF file: its loader data is spread over more than 16 MiB');
    bytes.add(at, await read(at, length));
    try {
      return parse(bytes);
    } catch (err) {
      if (!(err instanceof NeedBytes)) throw err;
      ({ at, length } = err);
    }
  }
}

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

/** Little/big-endian, 32/64-bit field reader over one file. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    readonly is64: boolean,
    private readonly le: boolean,
  ) {}
  u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }
  /** An address, offset or size: 4 or 8 bytes (values above 2^53 do not occur in real files). */
  word(at: number): number {
    if (!this.is64) return this.u32(at);
    return Number(this.le ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at));
  }
  cstring(at: number): string {
    const end = this.buf.indexOf(0, at);
    if (at < 0 || at >= this.buf.length || end < 0) throw new Error(`string at ${at} runs past the end`);
    return this.buf.toString('utf8', at, end);
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

/**
 * Read the loader-relevant parts of an ELF file from its program headers (section headers may be stripped):
 * PT_INTERP, and DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH and DF_1_NODEFLIB from the dynamic section.
 * @throws Error when the bytes are not a well-formed ELF file
 */
export function parseElf(buf: Buffer): ElfInfo {
  if (!isElf(buf) || buf.length < 0x34) throw new Error('not an ELF file');
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw new Error('unknown ELF class or byte order');
  try {
    const r = new Reader(buf, cls === 2, data === 1);
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
    throw new Error(`malformed ELF file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

import {
  decodeLongName,
  decodePaxRecords,
  decodeTarHeader,
  isExtension,
  type RawHeader,
  type TarHeader,
} from './tar-header.js';

/** A member found by {@link TarScanner}: its header and where its raw bytes lie in the stream. */
export interface ScannedMember {
  header: TarHeader;
  /** First byte: its pax / GNU long-name blocks, or its header block. */
  start: number;
  /** Where its data starts. */
  dataStart: number;
  /** One past its padded data. */
  end: number;
}

const MAX_LONG_HEADER = 1 << 20;
const pad512 = (n: number): number => Math.ceil(n / 512) * 512;

/**
 * Finds member headers in a tar stream pushed chunk by chunk, skipping data without copying it. It applies pax
 * (including global) records and GNU long names the way tar-stream's extract does.
 */
export class TarScanner {
  /** Absolute offset of the next byte to be consumed. */
  private offset = 0;
  private memberStart = 0;
  private skip = 0;
  private acc: Buffer[] = [];
  private accLength = 0;
  private want = 512;
  private longHeader: RawHeader | undefined;
  private pax: Record<string, string> | undefined;
  private paxGlobal: Record<string, string> | undefined;
  private gnuLongPath: string | undefined;
  private gnuLongLinkPath: string | undefined;

  constructor(private readonly onMember: (m: ScannedMember) => void) {}

  /** Consume a chunk. @throws Error on a corrupt header */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        this.offset += n;
        continue;
      }
      const n = Math.min(this.want - this.accLength, chunk.length - pos);
      this.acc.push(chunk.subarray(pos, pos + n));
      this.accLength += n;
      pos += n;
      this.offset += n;
      if (this.accLength < this.want) break;
      const block = this.acc.length === 1 ? (this.acc[0] as Buffer) : Buffer.concat(this.acc);
      this.acc = [];
      this.accLength = 0;
      if (this.longHeader) this.consumeLong(block);
      else this.consumeHeader(block);
    }
  }

  /** The stream ended. @throws Error when it ended inside a member */
  end(): void {
    if (this.skip > 0 || this.accLength > 0 || this.longHeader) throw new Error('Unexpected end of data');
  }

  private consumeHeader(block: Buffer): void {
    const raw = decodeTarHeader(block);
    if (!raw) {
      // A zero block (end-of-archive marker or padding) is skipped, as tar-stream does.
      this.memberStart = this.offset;
      return;
    }
    const { type } = raw;
    if (isExtension(type)) {
      if (raw.size > MAX_LONG_HEADER) throw new Error('Header exceeds max size');
      this.longHeader = raw;
      this.want = pad512(raw.size);
      if (this.want === 0) this.consumeLong(Buffer.alloc(0));
      return;
    }
    const header = this.applyExtensions({ ...raw, type });
    if (!(header.size >= 0)) throw new Error('Invalid header');
    const size = header.type === 'directory' ? 0 : header.size;
    const dataStart = this.offset;
    const end = dataStart + pad512(size);
    this.onMember({ header, start: this.memberStart, dataStart, end });
    this.skip = end - dataStart;
    this.memberStart = end;
  }

  /** GNU long names and pax records override the header's own fields; they apply to this member only. */
  private applyExtensions(header: TarHeader): TarHeader {
    if (this.gnuLongPath !== undefined) header.name = this.gnuLongPath;
    if (this.gnuLongLinkPath !== undefined) header.linkname = this.gnuLongLinkPath;
    if (this.pax) {
      if (this.pax.path) header.name = this.pax.path;
      if (this.pax.linkpath) header.linkname = this.pax.linkpath;
      if (this.pax.size) header.size = parseInt(this.pax.size, 10);
      header.pax = this.pax;
    }
    this.gnuLongPath = this.gnuLongLinkPath = this.pax = undefined;
    return header;
  }

  private consumeLong(block: Buffer): void {
    const header = this.longHeader;
    if (!header) return;
    const data = block.subarray(0, header.size);
    this.longHeader = undefined;
    this.want = 512;
    if (header.type === 'gnu-long-path') this.gnuLongPath = decodeLongName(data);
    else if (header.type === 'gnu-long-link-path') this.gnuLongLinkPath = decodeLongName(data);
    else if (header.type === 'pax-global-header') this.paxGlobal = decodePaxRecords(data);
    else this.pax = { ...(this.paxGlobal ?? {}), ...decodePaxRecords(data) };
  }
}

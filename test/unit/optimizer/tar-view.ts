import { Writable } from 'node:stream';
import { PYTHON, run } from './wheels.js';

/** A tar member as Python's tarfile reads it: the independent view the optimizer's tar code is checked against. */
export interface TarfileMember {
  name: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string;
  offset: number;
  offset_data: number;
  /** SHA-256 of a file's data (of nothing for other members). */
  sha256: string;
  /** A file's data as latin1 with `{ content: true }`, else ''. */
  content: string;
}

const PROGRAM = `
import hashlib, json, sys, tarfile
want = sys.argv[2] == "1"
out = []
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else b""
        out.append(dict(name=m.name, type=m.type.decode(), size=m.size, mode=m.mode, uid=m.uid, gid=m.gid,
                        uname=m.uname, gname=m.gname, mtime=m.mtime, linkname=m.linkname, offset=m.offset,
                        offset_data=m.offset_data, sha256=hashlib.sha256(data).hexdigest(),
                        content=data.decode("latin1") if want else ""))
print(json.dumps(out))
`;

/** Every member of the tar `file`, read by Python's tarfile (independent of the code under test). */
export async function tarfileMembers(file: string, options: { content?: boolean } = {}): Promise<TarfileMember[]> {
  const { stdout } = await run(PYTHON, ['-c', PROGRAM, file, options.content ? '1' : '0'], { maxBuffer: 1 << 28 });
  return JSON.parse(stdout) as TarfileMember[];
}

/** A writable that keeps what it is given. */
export function sink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

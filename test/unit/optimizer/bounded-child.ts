// One optimizer call in its own process, for the tests that measure memory: prints one JSON line with the outcome
// (the typed error's name, message and path, if any) and the peak resident memory of this process.
//   dir DIR PROFILE_JSON     optimizeDirectory on DIR
//   tar-record TMPDIR        optimizeTar on a generated archive whose RECORD member is 400 MB
//   tar-data TMPDIR          optimizeTar on a generated archive with a kept 400 MB data member
//   closure TAR TMPDIR       closureTar of a root filesystem archive (the fixtures' options: user 10001, /app)
import { createReadStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { closureTar, optimizeDirectory, optimizeTar, parseProfile } from '../../../packages/optimizer/src/index.js';

const MiB = 1 << 20;

/** A ustar header block for a regular file. */
function header(name: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  const field = (at: number, len: number, value: string): void => void b.write(value, at, len, 'latin1');
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(156, 1, '0');
  field(257, 8, 'ustar\x0000');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return b;
}

/** An archive of small files and one big member of `bigSize` zero bytes, streamed 1 MiB at a time. */
function archive(small: Record<string, string>, big: string, bigSize: number): Readable {
  return Readable.from(
    (function* () {
      for (const [name, content] of Object.entries(small)) {
        const data = Buffer.from(content);
        yield header(name, data.length);
        yield Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
      }
      yield header(big, bigSize);
      const chunk = Buffer.alloc(MiB);
      for (let left = bigSize; left > 0; left -= MiB) yield left >= MiB ? chunk : chunk.subarray(0, left);
      yield Buffer.alloc(((512 - (bigSize % 512)) % 512) + 1024);
    })(),
  );
}

const SITE = {
  'x-1.0.dist-info/METADATA': 'Name: x\nVersion: 1.0\n\n',
  'x/__init__.py': '',
};

async function run(kind: string, args: string[]): Promise<unknown> {
  let written = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      written += chunk.length;
      cb();
    },
  });
  if (kind === 'dir') {
    const report = await optimizeDirectory(args[0] as string, parseProfile(JSON.parse(args[1] as string)));
    return { before: report.before, after: report.after };
  }
  if (kind === 'tar-record') {
    const input = archive(SITE, 'x-1.0.dist-info/RECORD', 400 * MiB);
    return optimizeTar(input, sink, parseProfile({}), { tmpDir: args[0] as string });
  }
  if (kind === 'tar-data') {
    const input = archive(
      { ...SITE, 'x-1.0.dist-info/RECORD': 'x/__init__.py,,\nx/big.bin,,\n' },
      'x/big.bin',
      400 * MiB,
    );
    const report = await optimizeTar(input, sink, parseProfile({}), { tmpDir: args[0] as string });
    return { after: report.after, written };
  }
  if (kind === 'closure') {
    const options = { user: 10001, keep: ['/app'] };
    const report = await closureTar(createReadStream(args[0] as string), sink, options, { tmpDir: args[1] as string });
    return { written: report.written, bytes: written };
  }
  throw new Error(`unknown case ${kind}`);
}

const [kind = '', ...args] = process.argv.slice(2);
let outcome: Record<string, unknown>;
try {
  outcome = { result: await run(kind, args) };
} catch (err) {
  const e = err as Error & { path?: string };
  outcome = { error: e.name, message: e.message, ...(e.path !== undefined ? { path: e.path } : {}) };
}
console.log(JSON.stringify({ ...outcome, maxRssMb: process.resourceUsage().maxRSS / 1024 }));

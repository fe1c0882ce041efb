import type { LayerEntry } from './analyze-layers.js';
import { ImageArchiveError } from './inspect-errors.js';
import type { FileCollector } from './layer-file-contents.js';
import { decompress, listTar } from './read-docker-save.js';

/**
 * Lists one layer blob as it streams in (a registry's `GET /v2/<name>/blobs/<digest>`): gzip or zstd is sniffed and
 * inflated, every tar entry listed, and the files a `FileCollector` wants kept under `key`. Nothing else is buffered.
 * @throws {ImageArchiveError} when the blob is not a (compressed) tar.
 */
export async function listLayer(
  blob: AsyncIterable<Buffer>,
  options: { key: string; files?: FileCollector },
): Promise<LayerEntry[]> {
  const iterator = blob[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  while (Buffer.concat(head).length < 4) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
  }
  const start = Buffer.concat(head);
  const compression =
    start[0] === 0x1f && start[1] === 0x8b
      ? 'gzip'
      : start.length >= 4 && start.readUInt32BE(0) === 0x28b52ffd
        ? 'zstd'
        : 'none';
  const listing = listTar(options.files && { files: options.files, key: options.key });
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator };
  try {
    await decompress(compression, options.key, chunks(start, rest), (chunk) => listing.write(chunk));
    await listing.end();
  } catch (e) {
    listing.destroy();
    if (e instanceof ImageArchiveError) throw e;
    throw new ImageArchiveError(`layer ${options.key} could not be read`, { cause: e });
  }
  return listing.entries;
}

async function* chunks(head: Buffer, rest: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  if (head.length) yield head;
  yield* rest;
}

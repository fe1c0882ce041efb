import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import type { LayerEntry } from './analyze-layers.js';
import { ImageArchiveError } from './inspect-errors.js';
import type { FileCollector } from './layer-file-contents.js';
import { layerEntryOf } from './read-docker-save.js';

/**
 * Lists one layer blob as it streams in (a registry's `GET /v2/<name>/blobs/<digest>`): gzip is sniffed and inflated,
 * every tar entry listed, and the files a `FileCollector` wants kept under `key`. Nothing else is buffered.
 */
export async function listLayer(
  blob: AsyncIterable<Buffer>,
  options: { key: string; files?: FileCollector },
): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const entry = layerEntryOf(header);
    entries.push(entry);
    if (options.files?.wants(entry)) {
      options.files.capture(options.key, entry.path, stream as unknown as AsyncIterable<Buffer>).then(
        () => next(),
        (e: unknown) => extract.destroy(e as Error),
      );
      return;
    }
    stream.on('end', () => next());
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  try {
    await pipe(blob, extract);
    await done;
  } catch (e) {
    extract.destroy();
    throw new ImageArchiveError(`layer ${options.key} could not be read`, { cause: e });
  }
  return entries;
}

/** Feeds the blob (inflated when it starts with gzip's magic) into the tar extractor, honouring backpressure. */
async function pipe(blob: AsyncIterable<Buffer>, extract: tar.Extract): Promise<void> {
  let sink: { write(c: Buffer): boolean; end(): void; once(e: string, f: () => void): unknown } | undefined;
  let inflated: Promise<void> | undefined;
  for await (const chunk of blob) {
    if (!sink) {
      if (chunk[0] === 0x1f && chunk[1] === 0x8b) {
        const gunzip = zlib.createGunzip();
        inflated = (async () => {
          for await (const c of gunzip as AsyncIterable<Buffer>) await write(extract, c);
          extract.end(undefined);
        })();
        inflated.catch(() => undefined);
        sink = gunzip;
      } else sink = extract as unknown as typeof sink;
    }
    await write(sink as NonNullable<typeof sink>, chunk);
  }
  if (!sink) extract.end(undefined);
  else sink.end();
  await inflated;
}

function write(sink: { write(c: Buffer): boolean; once(e: string, f: () => void): unknown }, c: Buffer): Promise<void> {
  if (sink.write(c)) return Promise.resolve();
  // Drained, or closed/failed: a dead consumer must not hang the writer (its error surfaces through `done`).
  return new Promise((resolve) => {
    for (const event of ['drain', 'close', 'error']) sink.once(event, () => resolve());
  });
}

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { MetadataError, SizeLimitError, TreeAccessError } from './errors.js';

const MiB = 1 << 20;

/**
 * What the optimizer reads at most. Real files are far below: botocore's RECORD is 0.25 MB, endpoints.json 1.3 MB, the
 * largest service-2 model (ec2) 4.2 MB decompressed; a module that imports test packages is a few kB. A file over a
 * limit is not what its name says, and reading it whole could take the process down.
 */
export const LIMITS = {
  /** dist-info RECORD, METADATA, top_level.txt, entry_points.txt; botocore's endpoints.json. */
  metadataBytes: 16 * MiB,
  /** A service-2 model (compressed or not) as stored, and what it decompresses to. */
  modelBytes: 32 * MiB,
  /** A Python source read for its imports. */
  sourceBytes: 32 * MiB,
} as const;

/** The limit of a metadata file (`isMetadataFile`): a service model's, or the dist-info files' and endpoints.json's. */
export function metadataLimit(path: string): number {
  return /\/service-2\.json(?:\.gz)?$/.test(path) ? LIMITS.modelBytes : LIMITS.metadataBytes;
}

/** A file's content and its link count (more than 1: other names share the inode). */
export interface BoundedFile {
  content: Buffer;
  nlink: number;
}

/** `err.code`, or the message when there is none. */
export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Read a regular file of the tree, never through a symlink at its last component, refusing more than `limit` bytes.
 * @param shown the path as messages name it (relative to the input)
 * @throws {SizeLimitError} when it is larger than `limit`
 * @throws {TreeAccessError} when it cannot be read
 */
export function readBounded(abs: string, shown: string, limit: number): BoundedFile {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new TreeAccessError(abs, errnoOf(err), 'read', 'make it readable by this user', { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TreeAccessError(abs, 'EINVAL', 'read', 'it is no longer a regular file');
    if (st.size > limit) throw new SizeLimitError(shown, limit, 'read');
    const content = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, content, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return { content: at === st.size ? content : content.subarray(0, at), nlink: st.nlink };
  } catch (err) {
    if (err instanceof SizeLimitError || err instanceof TreeAccessError) throw err;
    throw new TreeAccessError(abs, errnoOf(err), 'read', 'make it readable by this user', { cause: err });
  } finally {
    closeSync(fd);
  }
}

/**
 * Gunzip at most `limit` bytes of output. With `head`, only the start of a stream is given: what it decompresses to is
 * returned without waiting for the end.
 * @throws {SizeLimitError} when the output would exceed `limit`
 * @throws {MetadataError} when it is not gzip data
 */
export function gunzipBounded(data: Buffer, shown: string, limit: number, head = false): Buffer {
  try {
    return gunzipSync(data, {
      maxOutputLength: limit,
      ...(head ? { finishFlush: zlibConstants.Z_SYNC_FLUSH } : {}),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new SizeLimitError(shown, limit, 'decompressed');
    throw new MetadataError(shown, `not gzip data (${(err as Error).message})`, 'reinstall the package it belongs to', {
      cause: err,
    });
  }
}

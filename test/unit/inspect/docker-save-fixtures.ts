import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
// tar-stream is a dependency of @4pass/builder, not of the workspace root: import it from there.
import * as tar from '../../../packages/builder/node_modules/tar-stream/index.js';

/** One entry of a synthetic layer tar. */
export interface FixtureEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  /** File content; `size` alone makes a file of that many zero bytes. */
  content?: string | Buffer;
  size?: number;
  mode?: number;
  linkname?: string;
}

export async function tarOf(entries: FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const events = pack as unknown as NodeJS.EventEmitter;
    events.on('data', (c: Buffer) => chunks.push(c));
    events.on('end', () => resolve());
    events.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body =
      type === 'file'
        ? typeof e.content === 'string'
          ? Buffer.from(e.content)
          : (e.content ?? Buffer.alloc(e.size ?? 0))
        : undefined;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        mtime: new Date(0),
        ...(e.linkname !== undefined && { linkname: e.linkname }),
      };
      if (body) pack.entry({ ...header, size: body.length }, body, (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface FixtureImage {
  layers: FixtureEntry[][];
  /** `created_by` per layer; empty_layer history entries are interleaved when `metadataSteps` is set. */
  steps?: string[];
  metadataSteps?: boolean;
  config?: Record<string, unknown>;
  repoTags?: string[];
  /** `docker20` (default): `<v1id>/layer.tar`; `oci`: `blobs/sha256/<hex>` like Docker ≥ 25. */
  layout?: 'docker20' | 'oci';
  gzip?: boolean;
  /**
   * OCI only: no manifest.json, only `index.json` → a nested image index → the amd64 manifest beside an attestation
   * manifest (what containerd's own export of a BuildKit image holds).
   */
  indexOnly?: boolean;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Builds a docker-save-like archive; layer files come before manifest.json, like the engine writes them. */
export async function dockerSaveOf(
  image: FixtureImage,
): Promise<{ archive: Buffer; diffIds: string[]; layerTars: Buffer[] }> {
  const layerTars = await Promise.all(image.layers.map((l) => tarOf(l)));
  const diffIds = layerTars.map((t) => `sha256:${sha(t)}`);
  const history: Record<string, unknown>[] = [];
  layerTars.forEach((_, i) => {
    if (image.metadataSteps) history.push({ created_by: `ENV STEP=${i}`, empty_layer: true });
    history.push({ created_by: image.steps?.[i] ?? `COPY layer${i} / # buildkit`, comment: 'buildkit.dockerfile.v0' });
  });
  if (image.metadataSteps) history.push({ created_by: 'CMD ["app"]', empty_layer: true });
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { User: '', Env: ['PATH=/usr/bin'], ...image.config },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
  const configText = JSON.stringify(config);
  const configName = image.layout === 'oci' ? `blobs/sha256/${sha(configText)}` : `${sha(configText)}.json`;
  const files: { name: string; body: Buffer }[] = [];
  const layerNames: string[] = [];
  layerTars.forEach((t, i) => {
    const body = image.gzip ? gzipSync(t) : t;
    const name = image.layout === 'oci' ? `blobs/sha256/${sha(body)}` : `${sha(`v1-${i}-${diffIds[i]}`)}/layer.tar`;
    if (image.layout !== 'oci') {
      files.push({ name: name.replace('layer.tar', 'VERSION'), body: Buffer.from('1.0') });
      files.push({ name: name.replace('layer.tar', 'json'), body: Buffer.from('{}') });
    }
    files.push({ name, body });
    layerNames.push(name);
  });
  files.push({ name: configName, body: Buffer.from(configText) });
  if (image.layout === 'oci') files.push({ name: 'oci-layout', body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') });
  if (image.indexOnly) {
    files.push(...ociIndexFiles(configText, layerTars, image.gzip === true));
    return { archive: await tarOf(files.map((f) => ({ name: f.name, content: f.body }))), diffIds, layerTars };
  }
  files.push({
    name: 'manifest.json',
    body: Buffer.from(
      JSON.stringify([{ Config: configName, RepoTags: image.repoTags ?? ['fixture:latest'], Layers: layerNames }]),
    ),
  });
  const archive = await tarOf(files.map((f) => ({ name: f.name, content: f.body })));
  return { archive, diffIds, layerTars };
}

/**
 * index.json → image index → { amd64 manifest, attestation manifest }, each blob under blobs/sha256, with the media
 * types an engine needs to load it (the containerd image store imports it as an image whose target is the index).
 */
function ociIndexFiles(configText: string, layerTars: Buffer[], gzip: boolean): { name: string; body: Buffer }[] {
  const blob = (value: unknown) => {
    const body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    return { name: `blobs/sha256/${sha(body)}`, body, digest: `sha256:${sha(body)}`, size: body.length };
  };
  const layerType = `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}`;
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(configText)}` };
  const manifest = blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { ...config, size: Buffer.byteLength(configText) },
    layers: layerTars.map((t) => {
      const body = gzip ? gzipSync(t) : t;
      return { mediaType: layerType, digest: `sha256:${sha(body)}`, size: body.length };
    }),
  });
  const empty = blob('{}');
  const attestation = blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: empty.digest, size: empty.size },
    layers: [],
  });
  const descriptor = (b: ReturnType<typeof blob>, mediaType: string) => ({ mediaType, digest: b.digest, size: b.size });
  const imageIndex = blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        ...descriptor(attestation, 'application/vnd.oci.image.manifest.v1+json'),
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: {
          'vnd.docker.reference.type': 'attestation-manifest',
          'vnd.docker.reference.digest': manifest.digest,
        },
      },
      {
        ...descriptor(manifest, 'application/vnd.oci.image.manifest.v1+json'),
        platform: { os: 'linux', architecture: 'amd64' },
      },
    ],
  });
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        ...descriptor(imageIndex, 'application/vnd.oci.image.index.v1+json'),
        annotations: {
          'io.containerd.image.name': 'docker.io/4pass-fixture/indexed:1',
          'org.opencontainers.image.ref.name': '1',
        },
      },
    ],
  };
  return [manifest, empty, attestation, imageIndex, { name: 'index.json', body: Buffer.from(JSON.stringify(index)) }];
}

/** Splits a buffer into small chunks, as a network stream would deliver it. */
export async function* chunked(buf: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

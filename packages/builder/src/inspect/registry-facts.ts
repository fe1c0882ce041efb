import { imageFactsFrom, withContents, type ImageFacts } from './inspect-image.js';
import { readRegistryImage, type ReadRegistryImageOptions, type RegistryImageSource } from './registry-image.js';

/**
 * `ImageFacts` of an image in a registry, read without pulling it (see `readRegistryImage`): layers, history, the
 * final tree, configured path sizes, waste and contents; `sizeBytes` and `imageId` as for a local image (content bytes,
 * config digest); `compressedSizeBytes` the registry's own blob sizes.
 * Undefined when the registry has no such image.
 * @throws {ImageArchiveError} when the manifest or a layer cannot be read.
 */
export async function registryImageFacts(
  source: RegistryImageSource,
  options: ReadRegistryImageOptions & { paths?: readonly string[] },
): Promise<(ImageFacts & { digest: string }) | undefined> {
  const started = performance.now();
  const image = await readRegistryImage(source, options);
  if (!image) return undefined;
  const layers = image.layers.map((l) => ({
    archivePath: l.diffId,
    compression: 'gzip' as const,
    diffId: l.diffId,
    tarBytes: 0,
    compressedBytes: l.compressedBytes,
    compressedFromCache: false,
    entries: l.entries,
  }));
  const ref = `${options.name}@${image.digest}`;
  const facts = imageFactsFrom(ref, undefined, image, layers, options.paths ?? []);
  return {
    ...facts,
    ...withContents(facts, layers, image.files),
    inspectMs: performance.now() - started,
    digest: image.digest,
  };
}

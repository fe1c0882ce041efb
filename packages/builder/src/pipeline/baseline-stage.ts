import type { ImageConfig } from '../config/config-types.js';
import type { ImageFacts } from '../inspect/inspect-image.js';
import { registryImageFacts } from '../inspect/registry-facts.js';
import { openRegistry } from '../push/open-registry.js';
import { loadArtifact } from '../push/image-artifacts.js';
import { baselineImage } from '../report/diff-reports.js';
import { evaluateImage } from '../report/evaluate-image.js';
import type { ImageReport } from '../report/gate-report.js';
import { parseGateReport } from '../report/load-report.js';
import { repositoryName, type BaselineSettings } from './config-stage.js';

/**
 * `--baseline-image REF`: the same image at `REF` in its registry (e.g. `latest`), never pulled into the engine. The
 * report the push stored with it is used as is; without one the image is measured from the registry (manifest,
 * config, and only the layers it does not share with the image just built). Undefined when the tag does not exist.
 */
export async function baselineStage(
  image: ImageConfig,
  facts: ImageFacts,
  settings: BaselineSettings,
): Promise<ImageReport | undefined> {
  const { reference } = settings;
  const { client, name } = await openRegistry({
    registry: settings.registry,
    name: repositoryName(image),
    ...(settings.auth && { auth: settings.auth }),
    ...(settings.env && { env: settings.env }),
  });
  const digest = await client.manifestDigest(name, reference);
  if (!digest) return undefined;
  const stored = await loadArtifact(client, { kind: 'report', name, imageDigest: digest });
  if (stored?.subject === digest) {
    return baselineImage(parseGateReport(stored.content, `${name}:${reference} (stored report)`), image.name)?.image;
  }
  const measured = await registryImageFacts(client, {
    name,
    reference: digest,
    paths: image.paths,
    ...(facts.knownLayers && { known: facts.knownLayers }),
  });
  if (!measured) return undefined;
  return evaluateImage(
    { ...measured, ref: `${name}:${reference}` },
    {
      name: image.name,
      budgets: { pathSizes: {} },
      structure: { absentPaths: [], presentPaths: [], noSecrets: false },
    },
  );
}

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  inspectImage,
  measureStartup,
  parseConfig,
  parseGateReport,
  renderHtmlReport,
  type Engine,
  type ImageFacts,
  type ImageReport,
} from '@4pass/builder/internal';
import { registryImageFacts } from '../../packages/builder/src/inspect/registry-facts.js';
import { readRegistryImage } from '../../packages/builder/src/inspect/registry-image.js';
import { pushImage } from '../../packages/builder/src/push/push-image.js';
import { RegistryHttpClient } from '../../packages/builder/src/push/registry-http-client.js';
import { imageSubject, loadArtifact, storeArtifact } from '../../packages/builder/src/push/image-artifacts.js';
import { buildGateReport, evaluateImage } from '../../packages/builder/src/report/evaluate-image.js';
import { openHtml, screenshot } from '../browser/chromium.js';
import { FROM_PYTHON, engine, removeTestContainers, runId, testLabel } from './helpers.js';
import { startRegistry, type TestRegistry } from '../../harness/registry.js';

// Wheels from the machine's local store (`python3 -m pip config list`: find-links); no index is reached.
const WHEELS = (process.env.FOURPASS_WHEEL_DIRS ?? '/opt/pypi/files:/opt/pypi-more/files').split(':');
const SITE = '/opt/venv/lib/python3.11/site-packages';

// A wheel unzipped into site-packages is an installed distribution (dist-info with METADATA and RECORD).
const dockerfile = (extra: string) => `${FROM_PYTHON}
RUN python3 -m venv --without-pip /opt/venv
COPY wheels/six.whl /tmp/six.whl
RUN python3 -m zipfile -e /tmp/six.whl ${SITE}/ && rm /tmp/six.whl
${extra}
CMD ["/opt/venv/bin/python", "-c", "import six${extra ? ', tabulate' : ''}, time; print('ready', flush=True); time.sleep(600)"]
`;
const ADD_TABULATE = `COPY wheels/tabulate.whl /tmp/tabulate.whl
RUN python3 -m zipfile -e /tmp/tabulate.whl ${SITE}/ && rm /tmp/tabulate.whl`;

const config = parseConfig(
  { images: [{ name: 'app', dockerfile: 'D', context: '.', budgets: { growth: '10kB' } }] },
  '/virtual/images.config.json',
).images[0]!;

async function findWheel(prefix: string): Promise<string> {
  for (const dir of WHEELS) {
    const names = await readdir(dir).catch(() => [] as string[]);
    const found = names.filter((n) => n.startsWith(prefix) && n.endsWith('-none-any.whl')).sort();
    if (found.length) return join(dir, found[found.length - 1] as string);
  }
  throw new Error(`no ${prefix}*.whl in ${WHEELS.join(', ')} (the machine's local wheel store)`);
}

let e: Engine;
let dir: string;
let registry: TestRegistry;
const password = randomBytes(12).toString('hex');
const tags = { before: `4pass-test/why-before:${runId}`, after: `4pass-test/why-after:${runId}` };
const ids: string[] = [];
let after: ImageFacts;

beforeAll(async () => {
  e = await engine();
  registry = await startRegistry({ username: 'AWS', password });
  dir = await mkdtemp(join(tmpdir(), 'why-'));
  await mkdir(join(dir, 'wheels'));
  await copyFile(await findWheel('six-'), join(dir, 'wheels', 'six.whl'));
  await copyFile(await findWheel('tabulate-'), join(dir, 'wheels', 'tabulate.whl'));
  await writeFile(join(dir, 'before.Dockerfile'), dockerfile(''));
  await writeFile(join(dir, 'after.Dockerfile'), dockerfile(ADD_TABULATE));
  for (const [name, tag] of Object.entries(tags)) {
    const built = await buildImage({
      engine: e,
      contextDir: dir,
      dockerfile: join(dir, `${name}.Dockerfile`),
      tags: [tag],
      labels: testLabel,
    });
    ids.push(built.imageId);
  }
  after = await inspectImage(e, tags.after);
});

afterAll(async () => {
  try {
    await removeTestContainers(e);
    for (const id of ids) await e.removeImage(id, { force: true }).catch(() => undefined);
  } finally {
    await registry?.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('why an image changed (real engine, real registry)', () => {
  let baseline: ImageReport;
  let client: RegistryHttpClient;
  const name = `4pass-test/why-${runId}`;

  it('compares with a pushed image read from the registry, not from the engine', async () => {
    const pushed = await pushImage({
      engine: e,
      image: tags.before,
      repository: `${registry.host}/${name}`,
      tags: ['latest'],
      auth: { username: 'AWS', password, serveraddress: registry.host },
    });
    // The baseline image leaves the engine: only the registry has it now.
    await e.removeImage(ids[0] as string, { force: true });
    expect(await e.inspectImage(tags.before)).toBeUndefined();
    client = new RegistryHttpClient({
      host: registry.host,
      scheme: 'http',
      auth: { username: 'AWS', password, serveraddress: registry.host },
    });
    const read = await registryImageFacts(client, { name, reference: 'latest', known: after.knownLayers! });
    expect(read?.digest).toBe(pushed.digest);
    // Only layers the image just built does not have are downloaded: here it shares all of the baseline's.
    const layers = (await readRegistryImage(client, { name, reference: 'latest', known: after.knownLayers! }))?.layers;
    expect(layers?.map((l) => l.fetched)).toEqual(layers?.map(() => false));
    expect(layers?.length).toBe(after.layers.length - 2);
    baseline = evaluateImage(read!, config);
    expect(baseline.contents?.python.map((d) => d.name)).toEqual(['six']);
  });

  it('names the added distribution, its size and its biggest paths, and the layer that brought it', () => {
    const now = evaluateImage(after, config, undefined, baseline);
    const tabulate = now.diff?.packages?.find((p) => p.name === 'tabulate');
    expect(tabulate).toMatchObject({ kind: 'python', change: 'added', versionBefore: null });
    expect(tabulate?.after).toBeGreaterThan(30_000);
    expect(tabulate?.paths[0]?.path).toMatch(/^tabulate/);
    expect(tabulate?.layer).toMatch(/zipfile -e \/tmp\/tabulate\.whl/);
    expect(now.diff?.packages?.map((p) => p.name)).toEqual(['tabulate']);
    const growth = now.checks.find((c) => c.id === 'growth');
    expect(growth?.status).toBe('fail');
    expect(growth?.details?.[1]).toMatch(/^ {2}1\. \+[\d.]+ kB: tabulate [\d.]+ added, of which tabulate/);
  });

  it('stores the report with the pushed image and reads it back as it was', async () => {
    const digest = (await registry.manifestDigest(name, 'latest')) as string;
    const gate = buildGateReport([baseline]);
    const subject = (await imageSubject(client, name, digest))!;
    const { tag } = await storeArtifact(client, { kind: 'report', name, subject, content: gate });
    expect(await registry.listTags(name)).toEqual(expect.arrayContaining(['latest', tag]));
    const loaded = await loadArtifact(client, { kind: 'report', name, imageDigest: digest });
    expect(loaded?.subject).toBe(digest);
    const stored = parseGateReport(loaded?.content);
    expect(stored.images[0]?.contents?.python[0]?.name).toBe('six');
  });

  it('profiles start-up imports and lists the new import', async () => {
    const startup = await measureStartup(e, tags.after, {
      ready: { kind: 'logPattern', pattern: '^ready' },
      runs: 1,
      timeoutMs: 30_000,
      labels: testLabel,
      profileImports: true,
    });
    const report = evaluateImage(after, config, startup, baseline);
    const profile = report.startup?.importProfile;
    expect(profile?.topLevel.map((m) => m.module)).toEqual(expect.arrayContaining(['tabulate', 'six']));
    expect(profile?.topLevel.find((m) => m.module === 'tabulate')?.distribution).toBe('tabulate');
    expect(profile?.byDistribution.map((d) => d.distribution)).toContain('tabulate');

    const opened = await openHtml(renderHtmlReport(buildGateReport([report])));
    try {
      expect(opened.requests).toHaveLength(1);
      // 50 kB in a 160 MB image is under a pixel of the treemap: the diff table names it, highlighted.
      expect(await opened.page.locator('svg.treemap g.kind-layer').count()).toBeGreaterThanOrEqual(1);
      expect(await opened.page.locator('tr.change-added[data-package="tabulate"]').count()).toBe(1);
      expect(await opened.page.locator('svg.imports g.bar[data-distribution="tabulate"]').count()).toBe(1);
      await screenshot(opened.page, 'html-report-why-engine.png');
    } finally {
      await opened.close();
    }
  });
});

import { type ImageFacts } from '@4pass/builder/internal';
import { analyzeLayers, type LayerEntry } from '../../../packages/builder/src/inspect/analyze-layers.js';

const file = (path: string, size: number): LayerEntry => ({ path, size, type: 'file', mode: 0o644 });

/** Small in-memory ImageFacts for rule tests (no engine, no archive). */
export function factsFixture(
  over: Partial<ImageFacts> & { files?: LayerEntry[][]; steps?: string[] } = {},
): ImageFacts {
  const layers = over.files ?? [
    [file('/usr/bin/python3', 5_000_000), file('/opt/venv/lib/python3.11/site-packages/pip/__init__.py', 1000)],
    [
      file('/app/main.py', 2_000),
      file('/opt/venv/lib/python3.11/site-packages/botocore/data/sqs/2012-11-05/service-2.json.gz', 30_000),
    ],
    [
      file('/opt/venv/lib/python3.11/site-packages/botocore/data/ecs/2014-11-13/service-2.json.gz', 50_000),
      file('/opt/venv/lib/python3.11/site-packages/botocore/data/_retry.json', 100),
    ],
  ];
  const a = analyzeLayers(layers.map((entries) => ({ entries })));
  const steps = over.steps ?? [
    'ADD rootfs / ',
    'COPY app /app # buildkit',
    'RUN /bin/sh -c pip install boto3 # buildkit',
  ];
  return {
    ref: 'fixture:1',
    imageId: 'sha256:' + 'a'.repeat(64),
    tags: ['fixture:1'],
    sizeBytes: 182_300_000,
    compressedSizeBytes: 64_000_000,
    layers: a.layers.map((l, index) => ({
      index,
      diffId: `sha256:${String(index).repeat(64)}`,
      createdBy: steps[index] ?? '',
      sizeBytes: l.sizeBytes,
      tarBytes: l.sizeBytes + 2048,
      compressedBytes: Math.round(l.sizeBytes / 3),
      entryCount: l.entryCount,
      wastedBytes: l.wastedBytes,
    })),
    history: steps.map((createdBy, layer) => ({ createdBy, emptyLayer: false, layer })),
    config: { user: 'app', env: ['PATH=/usr/bin', 'LANG=C.UTF-8'], labels: {}, healthcheck: ['CMD', 'true'] },
    paths: { '/opt/venv': 81_100 },
    tree: a.tree,
    waste: {
      totalBytes: a.totalBytes,
      finalBytes: a.finalBytes,
      wastedBytes: a.wastedBytes,
      efficiency: a.efficiency,
      inefficiencies: a.inefficiencies,
    },
    inspectMs: 1,
    ...over,
  };
}

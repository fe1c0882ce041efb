import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWorkerImage,
  inspectImage,
  parseConfig,
  renderHtmlReport,
  BuildCanceledError,
  ServiceUsageError,
  type Engine,
  type WorkerBuildResult,
  type WorkerEvent,
} from '@4pass/builder';
import { buildGateReport, evaluateImage } from '../../packages/builder/src/report/evaluate-image.js';
import { openHtml, screenshot } from '../browser/chromium.js';
import { engine as getEngine, runId, testLabel } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = join(root, 'dockerfiles/worker.Dockerfile');
const tag = `4pass-test/worker:${runId}`;

async function leftovers(engine: Engine) {
  const containers = await engine.listContainers({ label: ['org.4pass.role'] });
  const dangling = await engine.listImages({ dangling: ['true'] });
  return { containers: containers.length, dangling: dangling.map((i) => i.id).sort() };
}

/** Runs a Python program inside the image as its runtime user, read-only root, no network; always removed. */
async function runInImage(engine: Engine, image: string, program: string, user?: string) {
  const id = await engine.createContainer({
    image,
    entrypoint: ['/opt/venv/bin/python', '-c', program],
    cmd: [],
    ...(user && { user }),
    readOnlyRootfs: true,
    tmpfs: { '/tmp': 'rw,size=16m' },
    networkMode: 'none',
    labels: testLabel,
  });
  try {
    await engine.startContainer(id);
    const exitCode = await engine.waitContainer(id);
    const logs = await engine.containerLogs(id);
    return { exitCode, output: logs.stdout + logs.stderr };
  } finally {
    await engine.removeContainer(id);
  }
}

describe('worker image: builder → optimizer → runtime', () => {
  let engine: Engine;
  let result: WorkerBuildResult;
  const events: WorkerEvent[] = [];
  let before: Awaited<ReturnType<typeof leftovers>>;

  beforeAll(async () => {
    engine = await getEngine();
    before = await leftovers(engine);
    result = await buildWorkerImage({
      engine,
      contextDir: join(root, 'examples'),
      dockerfile,
      tags: [tag],
      labels: testLabel,
      sourceDir: join(root, 'examples/worker'),
      onEvent: (e) => events.push(e),
    });
  });

  afterAll(async () => {
    await engine?.removeImage(tag, { force: true });
  });

  it('runs every stage as a progress group with its duration, smoke program included', () => {
    expect(result.stages.map((s) => s.stage)).toEqual(['scan', 'builder', 'export', 'optimize', 'runtime', 'smoke']);
    for (const s of result.stages) expect(s.durationMs).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'stage-done')).toHaveLength(6);
    expect(result.smoke?.passed).toBe(true);
  });

  it('reports what the optimizer removed', () => {
    expect(result.optimizer.before.bytes - result.optimizer.after.bytes).toBeGreaterThan(10_000_000);
    expect(result.optimizer.services.kept).toEqual(
      expect.arrayContaining(['ecs', 'secretsmanager', 'sts', 'logs', 'sqs']),
    );
  });

  it('passes the in-image checks as its user with a read-only root filesystem, writing nothing', async () => {
    const facts = await engine.inspectImage(result.imageId);
    expect(facts?.Config.User).toMatch(/^(10001|appuser|worker)/);
    const program = await readFile(join(root, 'examples/worker/tests/in_image_check.py'), 'utf8');
    const run = await runInImage(engine, result.imageId, program, facts?.Config.User);
    expect(run.output).not.toMatch(/Traceback/);
    expect(run.exitCode, run.output).toBe(0);
  });

  it('shows its treemap in the HTML report, botocore and pydantic among its largest distributions', async () => {
    const facts = await inspectImage(engine, result.imageId);
    const largest = facts.contents?.python.slice(0, 3).map((d) => d.name);
    expect(largest).toEqual(expect.arrayContaining(['botocore', 'pydantic']));
    const config = parseConfig({ images: [{ name: 'worker', dockerfile: 'D', context: '.' }] }, '/virtual/i.json');
    const report = buildGateReport([evaluateImage(facts, config.images[0]!)]);
    const opened = await openHtml(renderHtmlReport(report));
    try {
      expect(opened.requests).toHaveLength(1); // the page itself, nothing else: it works offline
      const drawn = await opened.page.$$eval('svg.treemap g.kind-distribution', (gs) =>
        gs.map((g) => {
          const r = g.querySelector('rect');
          const area = Number(r?.getAttribute('width')) * Number(r?.getAttribute('height'));
          return { name: g.getAttribute('data-distribution') ?? '', area };
        }),
      );
      const byArea = drawn.sort((x, y) => y.area - x.area).map((d) => d.name);
      expect(byArea.slice(0, 3)).toEqual(expect.arrayContaining(['botocore', 'pydantic']));
      await screenshot(opened.page, 'html-report-worker-engine.png');
    } finally {
      await opened.close();
    }
  });

  it('leaves no containers and no intermediate images behind', async () => {
    const after = await leftovers(engine);
    expect(after.containers).toBe(0);
    expect(after.dangling).toEqual(before.dangling);
  });

  it('keeps the builder stage and the environment layer cached when only the worker code changes', async () => {
    const context = await mkdtemp(join(tmpdir(), '4pass-worker-ctx-'));
    try {
      await cp(join(root, 'examples'), context, {
        recursive: true,
        filter: (src) => !src.includes('node_modules') && !src.includes('/web/dist'),
      });
      const main = join(context, 'worker/worker/__main__.py');
      await writeFile(main, `${await readFile(main, 'utf8')}\n# changed ${runId}\n`);
      const again = await buildWorkerImage({
        engine,
        contextDir: context,
        dockerfile,
        labels: testLabel,
        sourceDir: join(context, 'worker'),
        smoke: false,
      });
      try {
        const uncachedBuilder = again.builder.steps.filter((s) => !s.cached && /RUN|COPY/.test(s.name));
        expect(uncachedBuilder.map((s) => s.name)).toEqual([]);
        const venvSteps = again.runtime.steps.filter((s) => /compile-venv/.test(s.name));
        expect(venvSteps.length).toBeGreaterThan(0);
        expect(venvSteps.every((s) => s.cached)).toBe(true);
        expect(again.runtime.steps.some((s) => !s.cached && /COPY .*worker/.test(s.name))).toBe(true);
      } finally {
        await engine.removeImage(again.imageId, { force: true });
      }
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  it('fails before building, naming file and line, when the worker calls a service the profile trims', async () => {
    const context = await mkdtemp(join(tmpdir(), '4pass-worker-s3-'));
    try {
      await cp(join(root, 'examples/worker'), join(context, 'worker'), { recursive: true });
      await writeFile(
        join(context, 'worker/worker/archive.py'),
        'import boto3\n\n\ndef upload():\n    return boto3.client("s3")\n',
      );
      const error = await buildWorkerImage({
        engine,
        contextDir: context,
        dockerfile,
        sourceDir: join(context, 'worker'),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUsageError);
      expect((error as ServiceUsageError).violations).toEqual([expect.objectContaining({ service: 's3', line: 5 })]);
      expect((error as Error).message).toMatch(/archive\.py:5: boto3 client "s3"/);
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  it('leaves nothing behind when interrupted', async () => {
    const controller = new AbortController();
    const pending = buildWorkerImage({
      engine,
      contextDir: join(root, 'examples'),
      dockerfile,
      noCache: true,
      labels: testLabel,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'build' && e.event.type === 'step-started' && /RUN/.test(e.event.name)) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(BuildCanceledError);
    const after = await leftovers(engine);
    expect(after.containers).toBe(0);
  });
});

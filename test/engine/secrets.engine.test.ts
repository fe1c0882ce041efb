import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseConfig,
  renderJUnitReport,
  renderMarkdownReport,
  renderTextReport,
  runImages,
  type Engine,
  type PipelineEvent,
  type RunImagesResult,
} from '@4pass/builder';
import { engine as sharedEngine, localPythonBase, runId, testLabel } from './helpers.js';

const PYTHON_BASE = await localPythonBase();

/**
 * Build secrets through the whole pipeline (config → session → BuildKit): the value reaches RUN
 * --mount=type=secret and nothing else — no layer, no history, no label, no event, no report in any format — even
 * when a careless RUN prints it; an allowed credential-looking build arg is redacted the same way.
 */
let engine: Engine;
let dir: string;
const secret = `sv-${randomBytes(20).toString('hex')}`;
const legacy = `lt-${randomBytes(20).toString('hex')}`;

beforeAll(async () => {
  engine = await sharedEngine();
  dir = await mkdtemp(join(tmpdir(), '4pass-secrets-'));
  await writeFile(
    join(dir, 'Dockerfile'),
    [
      `FROM ${PYTHON_BASE}`,
      'ARG LEGACY_TOKEN',
      // A careless step that prints the secret: the engine sends it in the log, we must not pass it on.
      'RUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok && echo && sha256sum /run/secrets/tok | cut -c1-64 > /tok.sha256',
      'RUN echo "legacy arg: $LEGACY_TOKEN"',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const image of await engine.listImages({ label: [`org.4pass.test=${runId}`] }))
    await engine.removeImage(image.id, { force: true });
  await rm(dir, { recursive: true, force: true });
});

function config() {
  return parseConfig(
    {
      secrets: { tok: { env: 'FOURPASS_TEST_TOK' } },
      images: [
        {
          name: 'secrets',
          dockerfile: join(dir, 'Dockerfile'),
          context: dir,
          repository: `4pass-test/secrets-${runId}`,
          labels: testLabel,
          buildArgs: { LEGACY_TOKEN: legacy },
          allowSecretBuildArgs: ['LEGACY_TOKEN'],
          budgets: { layers: 100 },
        },
      ],
    },
    join(dir, 'images.config.json'),
  );
}

async function run(env: Record<string, string>): Promise<{ result: RunImagesResult; output: string }> {
  const events: PipelineEvent[] = [];
  const result = await runImages({ engine, config: config(), env, noCache: true, onEvent: (e) => events.push(e) });
  const { report } = result;
  const errors = events.flatMap((e) => (e.type === 'image-failed' ? [e.error.message] : []));
  const output = [
    JSON.stringify(events),
    ...errors,
    JSON.stringify(report),
    renderMarkdownReport(report),
    renderJUnitReport(report),
    renderTextReport(report, { color: false }),
  ].join('\n');
  return { result, output };
}

describe('build secrets through runImages', () => {
  it('reach the RUN that mounts them and appear in no layer, history, label, event or report', async () => {
    const { result, output } = await run({ FOURPASS_TEST_TOK: secret });
    const imageId = result.builds.secrets?.imageId ?? '';
    expect(imageId).toMatch(/^sha256:/);
    expect(output).toContain('legacy arg: ***'); // the step's log line, redacted
    for (const value of [secret, legacy]) expect(output).not.toContain(value);

    const id = await engine.createContainer({ image: imageId, labels: testLabel, cmd: ['true'] });
    try {
      const chunks: Buffer[] = [];
      for await (const c of (await engine.getArchive(id, '/tok.sha256')) as AsyncIterable<Buffer>) chunks.push(c);
      expect(Buffer.concat(chunks).toString()).toContain(createHash('sha256').update(secret).digest('hex'));
    } finally {
      await engine.removeContainer(id);
    }
    const history = JSON.stringify(await engine.imageHistory(imageId));
    const inspect = JSON.stringify(await engine.inspectImage(imageId));
    expect(history).not.toContain(secret);
    expect(inspect).not.toContain(secret);
    let exported: Buffer = Buffer.alloc(0);
    for await (const c of (await engine.exportImage(imageId)) as AsyncIterable<Buffer>) {
      expect(Buffer.concat([exported, c]).includes(secret)).toBe(false);
      exported = c.subarray(Math.max(0, c.length - secret.length));
    }
  });

  it('a required secret whose variable is not set fails the build naming the id and the variable', async () => {
    const { result, output } = await run({});
    expect(result.report.pass).toBe(false);
    const error = result.report.errors.find((e) => e.name === 'secrets');
    expect(error?.stage).toBe('build');
    expect(error?.message).toMatch(/needs the build secret "tok" \(from \$FOURPASS_TEST_TOK, which is not set\)/);
    expect(output).toContain('"type":"secrets","given":[],"missing":[{"id":"tok","source":"$FOURPASS_TEST_TOK"}]');
    expect(output).not.toContain(legacy);
  });
});

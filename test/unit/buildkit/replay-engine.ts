import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Engine, EngineBuildRequest, EngineJsonMessage } from '../../../packages/builder/src/engine/engine.js';

/** Reads a recorded `/build` response (test/fixtures/engine/<name>.ndjson). */
export function recorded(name: string): EngineJsonMessage[] {
  const path = fileURLToPath(new URL(`../../fixtures/engine/${name}.ndjson`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EngineJsonMessage);
}

export interface ReplayEngine extends Engine {
  requests: EngineBuildRequest[];
  canceled: string[];
  pulls: string[];
}

/**
 * A fake Engine for unit tests: `build` drains the context tar and replays recorded messages; images listed in
 * `images` exist. Everything else throws.
 */
export function replayEngine(
  messages: EngineJsonMessage[] | (() => AsyncIterable<EngineJsonMessage>),
  options: { images?: string[]; pullable?: string[]; buildError?: Error } = {},
): ReplayEngine {
  const requests: EngineBuildRequest[] = [];
  const canceled: string[] = [];
  const pulls: string[] = [];
  const unsupported = (): never => {
    throw new Error('not supported by the replay engine');
  };
  const engine = {
    address: 'unix:///replay.sock',
    source: 'test',
    requests,
    canceled,
    pulls,
    ping: async () => undefined,
    // An engine without sessions: the context travels as a tar body, which `build` drains.
    api: async () => ({ version: '1.41', supports: () => false, require: unsupported }),
    async build(request: EngineBuildRequest) {
      requests.push(request);
      if (options.buildError) throw options.buildError;
      await drain(request.context);
      if (typeof messages === 'function') return messages();
      return (async function* () {
        for (const m of messages) yield m;
      })();
    },
    async cancelBuild(id: string) {
      canceled.push(id);
    },
    async inspectImage(ref: string) {
      return options.images?.includes(ref) ? ({ Id: `sha256:${ref}` } as never) : undefined;
    },
    async tryPull(ref: string) {
      pulls.push(ref);
      return options.pullable?.includes(ref) ?? false;
    },
  };
  return new Proxy(engine, {
    get: (target, key) =>
      key in target ? target[key as keyof typeof target] : key === 'then' ? undefined : unsupported,
  }) as unknown as ReplayEngine;
}

async function drain(stream: Readable | undefined): Promise<void> {
  for await (const chunk of stream ?? []) void chunk;
}

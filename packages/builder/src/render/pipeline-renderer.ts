import type { BuildEvent } from '../buildkit/build-events.js';
import type { PipelineEvent } from '../pipeline/pipeline-events.js';
import type { PushEvent } from '../push/push-image.js';
import type { WorkerEvent } from '../worker/build-worker-image.js';
import { createRenderer, type RendererOptions, type RenderStream as Stream } from './create-renderer.js';

export interface PipelineRendererOptions {
  /** Build progress: `auto` (default: live view on a terminal), `plain` or `tty`. */
  mode?: RendererOptions['mode'];
  /** Bold image headers. Default: when `stream` is a TTY. */
  color?: boolean;
  /** Makes the renderer of each build's progress (default `createRenderer(stream, { mode })`). */
  buildRenderer?: (stream: Stream) => (event: BuildEvent) => void;
}

/**
 * Renders `runImages`' events as the CLI prints them: one line per image and stage with its duration, each build's
 * progress (plain lines or the live view), worker sub-stages, pushed tags and retries, failures with their message.
 * Never throws; neither does the returned renderer.
 */
export function createPipelineRenderer(stream: Stream, options: PipelineRendererOptions = {}) {
  const color = options.color ?? stream.isTTY === true;
  const newBuildRenderer =
    options.buildRenderer ?? ((s: Stream) => createRenderer(s, { mode: options.mode ?? 'auto' }));
  const log = (line: string) => void stream.write(`${line}\n`);
  let build: ((event: BuildEvent) => void) | undefined;
  const startBuild = () => void (build = newBuildRenderer(stream));
  return (event: PipelineEvent): void => {
    switch (event.type) {
      case 'tags':
        return log(`tags: ${event.tags.join(', ')}${event.warning ? ` (${event.warning})` : ''}`);
      case 'secrets':
        return log(secretsLine(event));
      case 'leftovers-removed':
        return log(
          `removed ${event.containers.length} start-up container(s) left by an earlier run that was killed (${event.engine})`,
        );
      case 'image-started':
        return log(color ? `\n\x1b[1m==> ${event.image}\x1b[22m` : `\n==> ${event.image}`);
      case 'stage-started':
        if (event.stage === 'build') startBuild();
        return log(`--> ${event.image}: ${event.stage}`);
      case 'stage-done':
        return log(`--> ${event.image}: ${event.stage} ${done(event)}`);
      case 'build':
        return build?.(event.event);
      case 'worker':
        return renderWorker(event.image, event.event, log, startBuild, (e) => build?.(e));
      case 'push':
        return renderPush(event.event, log);
      case 'image-failed':
        return log(`--> ${event.image}: ${event.stage} FAILED\n${event.error.message}`);
      case 'push-skipped':
        return log(`push skipped: ${event.reason}`);
      case 'warning':
        return log(`--> ${event.image}: warning: ${event.message}`);
      case 'image-done':
        return;
    }
  };
}

function secretsLine(event: Extract<PipelineEvent, { type: 'secrets' }>): string {
  const missing = event.missing.map((m) => `${m.id} (${m.source} not set)`);
  return `build secrets: ${event.given.length ? event.given.join(', ') : 'none given'}${missing.length ? `; not given: ${missing.join(', ')}` : ''}`;
}

function done(event: { durationMs: number; detail?: string }): string {
  return `done in ${(event.durationMs / 1000).toFixed(1)}s${event.detail ? `: ${event.detail}` : ''}`;
}

function renderWorker(
  image: string,
  event: WorkerEvent,
  log: (line: string) => void,
  startBuild: () => void,
  build: (event: BuildEvent) => void,
): void {
  if (event.type === 'stage-started') {
    if (event.stage === 'build') startBuild();
    log(`    ${image}/${event.stage}…`);
  } else if (event.type === 'stage-done') {
    log(`    ${image}/${event.stage} ${done(event)}`);
  } else {
    build(event.event);
  }
}

function renderPush(event: PushEvent, log: (line: string) => void): void {
  if (event.type === 'tag-pushed' || event.type === 'tag-pointed') log(`    pushed ${event.tag} → ${event.digest}`);
  else if (event.type === 'tag-unchanged') log(`    ${event.tag} already → ${event.digest} (nothing pushed or moved)`);
  else if (event.type === 'retry') log(`    retrying ${event.operation} in ${event.delayMs} ms: ${event.reason}`);
  else if (event.type === 'waiting')
    log(`    still waiting for ${event.waitingFor} (${Math.round(event.silentMs / 1000)} s)`);
}

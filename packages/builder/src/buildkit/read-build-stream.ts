import type { EngineJsonMessage } from '../engine/engine.js';
import type { BuildEvent } from './build-events.js';
import { decodeBuildkitTrace } from './trace-wire.js';
import type { TraceTracker } from './trace-tracker.js';

/** An error the daemon reported inside the build stream (`errorDetail` / `error`). */
export interface DaemonError {
  message: string;
  code?: number;
}

/** What one line of the build stream means to us; undefined for lines we ignore. */
export type BuildStreamItem =
  | { kind: 'daemon-error'; error: DaemonError }
  | { kind: 'trace'; aux: string | Uint8Array }
  | { kind: 'image-id'; imageId: string }
  | { kind: 'message'; text: string }
  | undefined;

/** Classifies one JSON line of `POST /build?version=2`. */
export function classifyBuildMessage(message: EngineJsonMessage): BuildStreamItem {
  if (message.errorDetail || message.error) {
    const error: DaemonError = { message: message.errorDetail?.message ?? message.error ?? 'unknown error' };
    if (message.errorDetail?.code !== undefined) error.code = message.errorDetail.code;
    return { kind: 'daemon-error', error };
  }
  if (message.id === 'moby.buildkit.trace' && (typeof message.aux === 'string' || message.aux instanceof Uint8Array)) {
    return { kind: 'trace', aux: message.aux };
  }
  if (message.id === 'moby.image.id') {
    const id = (message.aux as { ID?: unknown } | undefined)?.ID;
    return typeof id === 'string' ? { kind: 'image-id', imageId: id } : undefined;
  }
  if (typeof message.stream === 'string' && message.stream.trim() !== '') {
    return { kind: 'message', text: message.stream.replace(/\n$/, '') };
  }
  return undefined;
}

/** What the whole build stream said. */
export interface BuildStreamOutcome {
  imageId: string | undefined;
  /** The last error the daemon reported in the stream. */
  daemonError: DaemonError | undefined;
  /** Set when reading or decoding the stream threw. */
  broken?: { error: unknown };
}

export interface ReadBuildStreamOptions {
  tracker: TraceTracker;
  emit: (event: BuildEvent) => void;
  /** Called on every line (e.g. to re-arm a stall timer). */
  onMessage: () => void;
  /** Checked after each non-error line; true ends reading. */
  shouldStop: () => boolean;
}

/** Reads the build stream to its end, turning BuildKit's trace into events; never throws. */
export async function readBuildStream(
  messages: AsyncIterable<EngineJsonMessage>,
  options: ReadBuildStreamOptions,
): Promise<BuildStreamOutcome> {
  const outcome: BuildStreamOutcome = { imageId: undefined, daemonError: undefined };
  try {
    for await (const message of messages) {
      options.onMessage();
      const item = classifyBuildMessage(message);
      if (item?.kind === 'daemon-error') {
        outcome.daemonError = item.error;
        continue;
      }
      if (item?.kind === 'trace') {
        for (const event of options.tracker.apply(decodeBuildkitTrace(item.aux))) options.emit(event);
      } else if (item?.kind === 'image-id') {
        outcome.imageId = item.imageId;
      } else if (item?.kind === 'message') {
        options.emit({ type: 'build-message', text: item.text });
      }
      if (options.shouldStop()) break;
    }
  } catch (error) {
    outcome.broken = { error };
  }
  return outcome;
}

import type { BuildEvent } from '../buildkit/build-events.js';
import { createPlainRenderer } from './plain-renderer.js';
import type { PlainRendererOptions } from './plain-renderer.js';
import { createTtyRenderer } from './tty-renderer.js';
import type { TtyRendererOptions } from './tty-renderer.js';

/** Where a renderer writes: a `process.stderr`-like stream (a TTY gets the live view). */
export type RenderStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface RendererOptions extends PlainRendererOptions, TtyRendererOptions {
  /** `auto` (default): the live view on a TTY (unless TERM=dumb), plain lines otherwise. */
  mode?: 'auto' | 'tty' | 'plain';
}

/**
 * Picks the renderer for `stream` like `docker build --progress=auto`: live view on a terminal, plain lines otherwise.
 * Never throws; neither does the returned renderer (a failing stream reports through its own `error` event).
 */
export function createRenderer(stream: RenderStream, options: RendererOptions = {}): (event: BuildEvent) => void {
  const mode = options.mode ?? 'auto';
  const tty = mode === 'tty' || (mode === 'auto' && stream.isTTY === true && process.env.TERM !== 'dumb');
  if (tty) return createTtyRenderer(stream, options);
  return createPlainRenderer((text) => stream.write(text), options);
}

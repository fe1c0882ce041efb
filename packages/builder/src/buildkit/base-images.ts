import { engineLabel, type EngineIdentity, type EngineImages } from '../engine/engine.js';
import { BaseImageError } from './build-errors.js';

/** How one `ARG X_IMAGE=default` used in a FROM was resolved. */
export interface BaseImageResolution {
  arg: string;
  /** The ARG's default in the Dockerfile, e.g. `python:3.11-slim`. */
  requested: string;
  /** What the build used, e.g. `4pass-local/python:3.11-slim`. */
  used: string;
  fallback: boolean;
  /** The engine it was loaded from (export → load) because the building engine lacked it. */
  loadedFrom?: string;
}

/** An image reference in a FROM that comes from an ARG declared before the first FROM. */
export interface BaseImageArg {
  arg: string;
  defaultValue: string;
}

/**
 * Finds `ARG NAME=default` lines before the first FROM whose NAME is used in a FROM (`FROM ${NAME}`, `FROM $NAME AS x`).
 * Handles line continuations, comments, quoted defaults and `--platform=` flags.
 */
export function findBaseImageArgs(dockerfile: string): BaseImageArg[] {
  const lines = joinContinuations(dockerfile);
  const declared = new Map<string, string>();
  const used = new Set<string>();
  let seenFrom = false;
  for (const line of lines) {
    const match = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = (match[1] ?? '').toUpperCase();
    const rest = match[2] ?? '';
    if (instruction === 'ARG' && !seenFrom) {
      for (const decl of rest.trim().split(/\s+/)) {
        const eq = decl.indexOf('=');
        if (eq <= 0) continue;
        declared.set(decl.slice(0, eq), unquote(decl.slice(eq + 1)));
      }
    } else if (instruction === 'FROM') {
      seenFrom = true;
      const image =
        rest
          .trim()
          .split(/\s+/)
          .find((part) => !part.startsWith('--')) ?? '';
      for (const ref of image.matchAll(/\$\{?(\w+)/g)) if (ref[1]) used.add(ref[1]);
    }
  }
  return [...declared]
    .filter(([arg, value]) => used.has(arg) && value !== '')
    .map(([arg, defaultValue]) => ({ arg, defaultValue }));
}

/**
 * The local stand-in for an official image: the explicit map first, else `4pass-local/<name>:<tag>`
 * (`python:3.11-slim` → `4pass-local/python:3.11-slim`, `docker.io/library/node:20-slim` → `4pass-local/node:20-slim`).
 */
export function localStandIn(image: string, fallbacks: Readonly<Record<string, string>> = {}): string {
  const explicit = fallbacks[image];
  if (explicit) return explicit;
  const short = image.replace(/^docker\.io\//, '').replace(/^library\//, '');
  return `4pass-local/${short}`;
}

export interface ResolveBaseImagesOptions {
  engine: EngineImages & EngineIdentity;
  dockerfile: string;
  /** Build args the caller set; those ARGs are left alone. */
  buildArgs?: Readonly<Record<string, string>>;
  /** Official image → local stand-in (defaults to `4pass-local/<name>:<tag>`). */
  baseImageFallbacks?: Readonly<Record<string, string>>;
  /** An engine to load a base image from (export → load) when `engine` has neither it nor its stand-in. */
  source?: EngineImages & EngineIdentity;
  signal?: AbortSignal;
}

/**
 * Resolves each base-image ARG default: the official image if present or pullable, else its local stand-in (recorded
 * with `fallback: true`). Returns the resolutions; the caller passes `used` as build args when it differs.
 * @throws BaseImageError naming the image when neither is available.
 */
export async function resolveBaseImages(options: ResolveBaseImagesOptions): Promise<BaseImageResolution[]> {
  const resolutions: BaseImageResolution[] = [];
  for (const { arg, defaultValue } of findBaseImageArgs(options.dockerfile)) {
    if (options.buildArgs && arg in options.buildArgs) continue;
    if (defaultValue.includes('$')) continue; // derived from another ARG: BuildKit expands it
    if (
      (await options.engine.inspectImage(defaultValue)) ||
      (await options.engine.tryPull(defaultValue, options.signal))
    ) {
      resolutions.push({ arg, requested: defaultValue, used: defaultValue, fallback: false });
      continue;
    }
    const standIn = localStandIn(defaultValue, options.baseImageFallbacks);
    if (standIn !== defaultValue && (await options.engine.inspectImage(standIn))) {
      resolutions.push({ arg, requested: defaultValue, used: standIn, fallback: true });
      continue;
    }
    const loaded = await loadFromSource(options, [defaultValue, standIn]);
    if (loaded) {
      resolutions.push({
        arg,
        requested: defaultValue,
        used: loaded,
        fallback: loaded !== defaultValue,
        loadedFrom: engineLabel(options.source!),
      });
      continue;
    }
    throw new BaseImageError(arg, defaultValue, standIn !== defaultValue ? standIn : undefined);
  }
  return resolutions;
}

/** The first of `refs` that the source engine has, copied to the building engine through the Engine API. */
async function loadFromSource(options: ResolveBaseImagesOptions, refs: string[]): Promise<string | undefined> {
  const source = options.source;
  if (!source || source === options.engine) return undefined;
  for (const ref of refs) {
    if (!(await source.inspectImage(ref))) continue;
    await options.engine.loadImage(await source.exportImage(ref), options.signal);
    if (await options.engine.inspectImage(ref)) return ref;
  }
  return undefined;
}

function joinContinuations(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') && current === '') continue;
    if (trimmed.startsWith('#')) continue; // comment lines inside a continuation are skipped by the parser
    if (raw.endsWith('\\')) {
      current += `${raw.slice(0, -1)} `;
      continue;
    }
    out.push(current + raw);
    current = '';
  }
  if (current) out.push(current);
  return out;
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}

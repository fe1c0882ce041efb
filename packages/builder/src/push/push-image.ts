import type { EngineImages, EngineJsonMessage, EngineRegistry, ImageInspect, RegistryAuth } from '../engine/engine.js';
import { StallError, withIdleDeadline } from '../engine/idle-deadline.js';
import { EngineRequestError, EngineTimeoutError } from '../engine/engine-errors.js';
import { FourpassError } from '../errors/fourpass-error.js';
import { DigestMismatchError, PushError, RegistryAuthError, TagImmutableError } from './push-errors.js';
import type { EnsureRepositoryOptions, EnsureRepositoryResult, RegistryApi } from './registry-api.js';
import { isValidTag } from '../references/tag-pattern.js';
import { SecretSet } from '../secrets/secret-set.js';
import { registryAuthFromEnv, resolveRegistryAuth, toEngineAuth, type RegistryAuthSource } from './registry-auth.js';
import { defaultRegistryScheme, parseRegistryHost, type RegistryTarget } from '../references/registry-host.js';
import { RegistryHttpClient, type RegistryTimeouts } from './registry-http-client.js';
import { classifyFailure, errorText, isTransient, TransientFailure, withRetry, type RetryOptions } from './retry.js';

/** Per-layer outcome counts of one pushed tag. */
export interface LayerCounts {
  /** Uploaded in this push. */
  pushed: number;
  /** "Layer already exists": nothing uploaded. */
  existing: number;
  /** "Mounted from …": copied registry-side, nothing uploaded. */
  mounted: number;
  total: number;
}

/** Progress of `pushImage`, for a renderer. Never carries credentials. */
export type PushEvent =
  | { type: 'repository'; repository: string; result: EnsureRepositoryResult }
  | { type: 'auth-ok'; registry: string; username: string | undefined }
  | { type: 'push-start'; tag: string; attempt: number }
  | { type: 'layer'; tag: string; layer: string; status: string; current?: number; total?: number }
  | { type: 'daemon-retry'; tag: string; layer: string | undefined; status: string }
  | { type: 'retry'; operation: string; attempt: number; delayMs: number; reason: string }
  | { type: 'tag-pushed'; tag: string; digest: string; layers: LayerCounts }
  | { type: 'digest-verified'; tag: string; digest: string }
  | { type: 'tag-pointed'; tag: string; digest: string; via: 'ecr-put-image' | 'registry-api' }
  /** The registry already served this image under `tag`: nothing was pushed or moved. */
  | { type: 'tag-unchanged'; tag: string; digest: string }
  /** The engine's push stream has been silent for `silentMs`; said every 10 s until it moves or its deadline passes. */
  | { type: 'waiting'; tag: string; waitingFor: string; silentMs: number };

/** Deadlines of a push. Defaults: `DEFAULT_PUSH_TIMEOUTS`. */
export interface PushTimeouts extends RegistryTimeouts {
  /** Longest silence of the engine's push stream (default 60 s): a stalled upload or manifest PUT fails (and is retried). */
  streamIdleMs?: number;
}

/**
 * A registry that stops answering fails a push within (retries + 1) × `streamIdleMs` plus the backoff: with the
 * defaults (3 retries, 60 s, 1 + 2 + 4 s) about 4 min 7 s per tag; registry API calls within (retries + 1) ×
 * (`headersMs` + `bodyIdleMs`) plus the backoff.
 */
export const DEFAULT_PUSH_TIMEOUTS: Required<PushTimeouts> = {
  streamIdleMs: 60_000,
  headersMs: 30_000,
  bodyIdleMs: 30_000,
};

export interface PushImageOptions {
  engine: EngineRegistry & Pick<EngineImages, 'inspectImage' | 'tagImage'>;
  /** Local image id or reference. */
  image: string;
  /** `host[:port]/name`, e.g. `127.0.0.1:5000/4pass/api` or `<acct>.dkr.ecr.<region>.amazonaws.com/4pass/api`. */
  repository: string;
  /**
   * `['sha-<7>']` (from `resolveTags`): the first tag is pushed and verified; any others are pointed at the same digest
   * afterwards, and only if everything before succeeded. (`build:images --push` pushes the sha tag only: `latest` is
   * moved by a release, `promoteImage`.)
   */
  tags: string[];
  /**
   * Credentials or a provider. Default: `ecr.getRegistryAuth()` for an ECR host when `ecr` is given, else
   * `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` (`registryAuthFromEnv`), else anonymous.
   */
  auth?: RegistryAuthSource;
  /** For the `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` default (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Control plane for ECR hosts: repository ensured, `latest` pointed via BatchGetImage + PutImage. */
  ecr?: RegistryApi;
  /** Ensure the ECR repository before pushing (default true when `ecr` is given); options other than the name. */
  ensureRepository?: boolean | Omit<EnsureRepositoryOptions, 'name'>;
  onEvent?: (event: PushEvent) => void;
  /** Transient-failure retries (default `{ max: 3, baseDelayMs: 1000 }`). Auth failures are never retried. */
  retries?: RetryOptions;
  /** Deadlines of the engine's push stream and the registry API calls (`DEFAULT_PUSH_TIMEOUTS`). */
  timeouts?: PushTimeouts;
  /** Scheme of the registry API for the digest check (default http for loopback hosts, https otherwise). */
  scheme?: 'http' | 'https';
  /** `fetch` for the registry API (tests). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Test seam: awaited after the first tag is pushed and verified, before any other tag moves. */
  beforePointingTags?: () => Promise<void>;
  /** Test seam for backoff delays. */
  sleep?: (ms: number) => Promise<void>;
}

export interface PushedTag {
  tag: string;
  digest: string;
  /** How the tag came to point at `digest`; `unchanged`: it already did, nothing was pushed or moved. */
  via: 'engine-push' | 'ecr-put-image' | 'registry-api' | 'unchanged';
}

export interface PushResult {
  /** `host[:port]/name`. */
  repository: string;
  /** The manifest digest every tag points at. */
  digest: string;
  tags: PushedTag[];
  /** Layer counts of the first (sha) tag's push; a re-run reports `pushed: 0`. */
  layers: LayerCounts;
  /**
   * Local tags created for the push: `repository:<first tag>` (the engine pushes a tag by its local name), kept on
   * the image; the other tags move in the registry only. Empty when nothing had to be pushed.
   */
  localRefs: string[];
  repositoryResult?: EnsureRepositoryResult;
}

/**
 * Pushes a local image under `tags` and returns each tag with its digest. Order, each step only if the one before
 * succeeded: (ECR) ensure repository → check credentials (`POST /auth`; bad ones fail at once, never retried) → the
 * first tag: nothing when the registry already serves this image under it, else tagged locally, pushed through the
 * engine and verified (`HEAD /v2/<name>/manifests/<tag>` serves the pushed digest, the local image's RepoDigests
 * know it) → point the other tags (`latest`) at that digest in the registry itself: on ECR with `BatchGetImage` +
 * `PutImage`, elsewhere by copying the manifest under the tag (no local `latest`, so concurrent runs cannot swap it),
 * and not at all when a tag already points there. A re-push of an unchanged image pushes and moves nothing.
 * Transient failures are retried with bounded exponential backoff; every network wait has a deadline
 * (`DEFAULT_PUSH_TIMEOUTS`); an abort stops at the next step. No credential appears in any event, error or result.
 * @throws {RegistryAuthError} bad credentials (at once).
 * @throws {RegistryServerError} 5xx answers, {RegistryTimeoutError} no answer in time, {RegistryUnavailableError} no
 *   connection — each after the retries.
 * @throws {TagImmutableError} an immutable tag already points at another digest.
 * @throws {DigestMismatchError} the registry or the local image disagree about the digest.
 * @throws {PushError} any other push failure, with the daemon's text.
 */
export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  const target = parseRegistryHost(options.repository);
  const [firstTag, ...otherTags] = checkTags(target, options.tags);
  const emit = (event: PushEvent): void => options.onEvent?.(event);
  const ecr = options.ecr && target.isEcr ? options.ecr : undefined;
  const repositoryResult = ecr ? await ensureEcrRepository(ecr, options, target, emit) : undefined;
  const ctx = await connect(options, target, ecr, emit);

  const local = await options.engine.inspectImage(options.image);
  if (!local) throw new PushError(target.repository, firstTag, `image ${options.image} does not exist locally`);
  const first = await pushFirstTag(ctx, firstTag, local);
  await options.beforePointingTags?.();

  // Only now move the other tags (latest) to the same digest.
  const tags: PushedTag[] = [first.pushed];
  for (const tag of otherTags) {
    options.signal?.throwIfAborted();
    tags.push(
      ecr ? await retagOnEcr(ctx, ecr, tag, first.pushed.digest) : await pointTag(ctx, tag, first.pushed.digest),
    );
  }
  const result: PushResult = {
    repository: target.repository,
    digest: first.pushed.digest,
    tags,
    layers: first.layers,
    localRefs: first.localRefs,
  };
  if (repositoryResult) result.repositoryResult = repositoryResult;
  return result;
}

const NO_LAYERS: LayerCounts = { pushed: 0, existing: 0, mounted: 0, total: 0 };

/** The immutable tag: nothing when the registry already serves this image under it, else pushed and verified. */
async function pushFirstTag(
  ctx: Ctx,
  tag: string,
  local: ImageInspect,
): Promise<{ pushed: PushedTag; layers: LayerCounts; localRefs: string[] }> {
  const { options, target } = ctx;
  options.signal?.throwIfAborted();
  const served = local.RepoDigests?.some((d) => d.startsWith(`${target.repository}@`))
    ? await registryDigest(ctx, tag)
    : undefined;
  if (served && local.RepoDigests?.includes(`${target.repository}@${served}`)) {
    ctx.emit({ type: 'tag-unchanged', tag, digest: served });
    return { pushed: { tag, digest: served, via: 'unchanged' }, layers: NO_LAYERS, localRefs: [] };
  }
  await options.engine.tagImage(local.Id, target.repository, tag);
  const pushed = await pushTag(ctx, tag, local.Id);
  options.signal?.throwIfAborted();
  await verifyPushed(ctx, tag, local.Id, pushed.digest);
  ctx.emit({ type: 'digest-verified', tag, digest: pushed.digest });
  return {
    pushed: { tag, digest: pushed.digest, via: 'engine-push' },
    layers: pushed.layers,
    localRefs: [`${target.repository}:${tag}`],
  };
}

/** The tags, checked against Docker's tag syntax; the first one is pushed first. */
function checkTags(target: RegistryTarget, tags: readonly string[]): [string, ...string[]] {
  const [firstTag, ...otherTags] = tags;
  if (!firstTag) throw new PushError(target.repository, undefined, 'no tags to push');
  for (const tag of tags) {
    if (!isValidTag(tag)) throw new PushError(target.repository, tag, 'not a valid tag');
  }
  return [firstTag, ...otherTags];
}

async function ensureEcrRepository(
  ecr: RegistryApi,
  options: PushImageOptions,
  target: RegistryTarget,
  emit: (event: PushEvent) => void,
): Promise<EnsureRepositoryResult | undefined> {
  if (options.ensureRepository === false) return undefined;
  const extra = typeof options.ensureRepository === 'object' ? options.ensureRepository : {};
  const result = await ecr.ensureRepository({ ...extra, name: target.name });
  emit({ type: 'repository', repository: target.repository, result });
  return result;
}

/** Resolves the credentials, and checks them with the engine (`POST /auth`) when there are any. */
async function connect(
  options: PushImageOptions,
  target: RegistryTarget,
  ecr: RegistryApi | undefined,
  emit: (event: PushEvent) => void,
): Promise<Ctx> {
  const secrets = new SecretSet();
  const authSource =
    options.auth ?? (ecr ? () => ecr.getRegistryAuth() : registryAuthFromEnv(target.host, options.env));
  const auth: RegistryAuth = authSource ? await resolveRegistryAuth(authSource) : { serveraddress: target.host };
  secrets.addAuth(auth);
  const engineAuth = { ...toEngineAuth(auth), serveraddress: auth.serveraddress || target.host };
  const ctx: Ctx = {
    options,
    target,
    auth: engineAuth,
    secrets,
    emit,
    http: new RegistryHttpClient({
      host: target.host,
      scheme: options.scheme ?? defaultRegistryScheme(target),
      auth: engineAuth,
      fetch: options.fetch,
      redact: (t) => secrets.redact(t),
      ...(options.timeouts && { timeouts: options.timeouts }),
      ...(options.signal && { signal: options.signal }),
    }),
  };
  if (engineAuth.password !== undefined || engineAuth.identitytoken !== undefined) {
    await retrying(ctx, `credential check for ${target.host}`, () => checkAuth(ctx));
    emit({ type: 'auth-ok', registry: target.host, username: engineAuth.username });
  }
  return ctx;
}

/** The registry serves `digest` for `tag`, and the local image lists it in its RepoDigests. */
async function verifyPushed(ctx: Ctx, tag: string, imageId: string, digest: string): Promise<void> {
  const { target } = ctx;
  const served = await registryDigest(ctx, tag);
  if (served !== digest) throw new DigestMismatchError(target.repository, tag, digest, served, 'registry');
  const after = await ctx.options.engine.inspectImage(imageId);
  if (!after?.RepoDigests?.includes(`${target.repository}@${digest}`)) {
    const known = after?.RepoDigests?.find((d) => d.startsWith(`${target.repository}@`))?.split('@')[1];
    throw new DigestMismatchError(target.repository, tag, digest, known, 'local image');
  }
}

/** Points `tag` at `digest` on ECR (`BatchGetImage` + `PutImage`), uploading nothing. */
async function retagOnEcr(ctx: Ctx, ecr: RegistryApi, tag: string, firstDigest: string): Promise<PushedTag> {
  const { target } = ctx;
  const { digest } = await retrying(ctx, `retag ${target.repository}:${tag}`, () =>
    ecr.retag({ repository: target.name, fromDigest: firstDigest, toTag: tag }),
  );
  if (digest !== firstDigest) throw new DigestMismatchError(target.repository, tag, firstDigest, digest, 'registry');
  ctx.emit({ type: 'tag-pointed', tag, digest, via: 'ecr-put-image' });
  return { tag, digest, via: 'ecr-put-image' };
}

/** Points `tag` at `digest` through the registry API (the manifest copied under it); nothing when it already does. */
async function pointTag(ctx: Ctx, tag: string, digest: string): Promise<PushedTag> {
  const { target } = ctx;
  if ((await registryDigest(ctx, tag)) === digest) {
    ctx.emit({ type: 'tag-unchanged', tag, digest });
    return { tag, digest, via: 'unchanged' };
  }
  const operation = `point ${target.repository}:${tag} at ${digest}`;
  try {
    await retrying(ctx, operation, () => ctx.http.copyManifest(target.name, digest, tag));
  } catch (error) {
    if (error instanceof FourpassError || ctx.options.signal?.aborted) throw error;
    throw new PushError(target.repository, tag, `${operation} failed: ${ctx.secrets.redact(errorText(error))}`, {
      cause: error,
    });
  }
  const served = await registryDigest(ctx, tag);
  if (served !== digest) throw new DigestMismatchError(target.repository, tag, digest, served, 'registry');
  ctx.emit({ type: 'tag-pointed', tag, digest, via: 'registry-api' });
  return { tag, digest, via: 'registry-api' };
}

interface Ctx {
  options: PushImageOptions;
  target: RegistryTarget;
  /** A plain copy for the engine (no redacting toJSON). */
  auth: RegistryAuth;
  secrets: SecretSet;
  emit: (event: PushEvent) => void;
  http: RegistryHttpClient;
}

function retrying<T>(ctx: Ctx, operation: string, fn: (attempt: number) => Promise<T>): Promise<T> {
  return withRetry(
    {
      registry: ctx.target.host,
      operation,
      retries: ctx.options.retries,
      redact: (t) => ctx.secrets.redact(t),
      onRetry: (info) => ctx.emit({ type: 'retry', operation, ...info }),
      sleep: ctx.options.sleep,
      signal: ctx.options.signal,
    },
    fn,
  );
}

/** The digest the registry serves for `tag` (registry API v2, retried on transient failures). */
async function registryDigest(ctx: Ctx, tag: string): Promise<string | undefined> {
  const operation = `digest check of ${ctx.target.repository}:${tag}`;
  try {
    return await retrying(ctx, operation, () => ctx.http.manifestDigest(ctx.target.name, tag));
  } catch (error) {
    if (error instanceof FourpassError) throw error;
    throw new PushError(ctx.target.repository, tag, `${operation} failed: ${ctx.secrets.redact(errorText(error))}`, {
      cause: error,
    });
  }
}

/** `POST /auth`: a rejection is an auth error unless it is transient (registry down), which is retried. */
async function checkAuth(ctx: Ctx): Promise<void> {
  try {
    await ctx.options.engine.checkAuth(ctx.auth);
  } catch (error) {
    const text = ctx.secrets.redact(errorText(error));
    if (error instanceof EngineTimeoutError) throw error; // transient: retried, then a timeout naming the request
    const kind = classifyFailure(text);
    if (kind === 'auth') throw new RegistryAuthError(ctx.target.host, ctx.auth.username, text);
    if (kind === 'transient' || isTransient(error)) throw new TransientFailure(text);
    throw new PushError(ctx.target.repository, undefined, `credential check (POST /auth) failed: ${text}`);
  }
}

/** Pushes one tag through the engine with retries; returns its digest and layer counts. */
async function pushTag(ctx: Ctx, tag: string, imageId: string): Promise<{ digest: string; layers: LayerCounts }> {
  const { target } = ctx;
  try {
    return await retrying(ctx, `push ${target.repository}:${tag}`, (attempt) => pushTagOnce(ctx, tag, attempt));
  } catch (error) {
    if (error instanceof PushError && classifyFailure(error.reason) === 'immutable') {
      // The registry refused to overwrite the tag. Same digest as ours (an earlier identical push) = success.
      const existing = await existingDigest(ctx, tag);
      const local = await ctx.options.engine.inspectImage(imageId);
      const ours = local?.RepoDigests?.find((d) => d.startsWith(`${target.repository}@`))?.split('@')[1];
      if (existing && existing === ours)
        return { digest: existing, layers: { pushed: 0, existing: 0, mounted: 0, total: 0 } };
      throw new TagImmutableError(target.repository, tag, existing, ours, { cause: error });
    }
    throw error;
  }
}

async function existingDigest(ctx: Ctx, tag: string): Promise<string | undefined> {
  try {
    const ecr = ctx.options.ecr && ctx.target.isEcr ? ctx.options.ecr : undefined;
    return ecr ? await ecr.getTagDigest(ctx.target.name, tag) : await ctx.http.manifestDigest(ctx.target.name, tag);
  } catch {
    return undefined;
  }
}

/** What one push stream said so far. */
interface PushStreamState {
  layers: Map<string, string>;
  digest?: string;
  failure?: string;
  /** The daemon began its own retry loop ("Retrying in N seconds"); we stopped it. */
  daemonRetry: boolean;
  /** The latest progress, for "waiting for …" messages: `layer 3f2a…: Pushing`. */
  last: string;
}

async function pushTagOnce(ctx: Ctx, tag: string, attempt: number): Promise<{ digest: string; layers: LayerCounts }> {
  const { options, target, emit } = ctx;
  emit({ type: 'push-start', tag, attempt });
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const state: PushStreamState = { layers: new Map(), daemonRetry: false, last: 'nothing yet' };
  try {
    const stream = await options.engine.push(target.repository, tag, ctx.auth, abort.signal);
    await readPushStream(ctx, tag, stream, state, abort);
  } catch (error) {
    throw pushStreamFailure(ctx, tag, error, state);
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (state.daemonRetry) {
    // Credentials revoked or expired meanwhile → auth error (no retry); otherwise treat it as transient.
    await checkAuth(ctx);
    throw new TransientFailure(`the engine had to retry a layer upload to ${target.host}`);
  }
  if (state.failure !== undefined) throw classifyPushText(ctx, tag, state.failure);
  if (!state.digest) throw new PushError(target.repository, tag, 'the push stream ended without a digest');
  const layers = countLayers(state.layers);
  emit({ type: 'tag-pushed', tag, digest: state.digest, layers });
  return { digest: state.digest, layers };
}

/** Reads the engine's push stream; silence longer than `streamIdleMs` aborts it with a StallError. */
async function readPushStream(
  ctx: Ctx,
  tag: string,
  stream: AsyncIterable<EngineJsonMessage>,
  state: PushStreamState,
  abort: AbortController,
): Promise<void> {
  const what = `${ctx.target.repository}:${tag}`;
  const messages = withIdleDeadline(stream, {
    idleMs: ctx.options.timeouts?.streamIdleMs ?? DEFAULT_PUSH_TIMEOUTS.streamIdleMs,
    waitingFor: () => `the engine's push of ${what} (last: ${state.last})`,
    onWaiting: ({ waitingFor, silentMs }) => ctx.emit({ type: 'waiting', tag, waitingFor, silentMs }),
    onStall: () => abort.abort(),
  });
  for await (const message of messages) {
    const outcome = handleMessage(ctx, tag, message, state.layers);
    if (message.id && message.status) state.last = `layer ${message.id}: ${message.status}`;
    if (outcome.digest) state.digest = outcome.digest;
    if (outcome.error) state.failure = outcome.error;
    if (outcome.daemonRetry) {
      // The daemon retries failed uploads for ~75 s without saying why. Stop it and find out ourselves.
      state.daemonRetry = true;
      abort.abort();
      return;
    }
  }
}

/** An error while reading the push stream, as a retryable failure when it is one; an abort stays an abort. */
function pushStreamFailure(ctx: Ctx, tag: string, error: unknown, state: PushStreamState): unknown {
  if (ctx.options.signal?.aborted) return error;
  if (error instanceof StallError) {
    return new TransientFailure(ctx.secrets.redact(error.message), { kind: 'timeout', waitingFor: error.waitingFor });
  }
  if (state.daemonRetry) return new TransientFailure(`the engine had to retry a layer upload to ${ctx.target.host}`);
  if (error instanceof EngineTimeoutError) return error;
  if (error instanceof EngineRequestError || isTransient(error)) {
    return classifyPushText(ctx, tag, ctx.secrets.redact(errorText(error)));
  }
  return error;
}

function classifyPushText(ctx: Ctx, tag: string, text: string): Error {
  switch (classifyFailure(text)) {
    case 'auth':
      return new RegistryAuthError(ctx.target.host, ctx.auth.username, text);
    case 'transient':
      return new TransientFailure(text);
    default:
      return new PushError(ctx.target.repository, tag, text);
  }
}

const DIGEST_LINE = /digest: (sha256:[0-9a-f]{64})/;

function handleMessage(
  ctx: Ctx,
  tag: string,
  message: EngineJsonMessage,
  layers: Map<string, string>,
): { digest?: string; error?: string; daemonRetry?: boolean } {
  if (message.errorDetail || message.error) {
    return { error: ctx.secrets.redact(message.errorDetail?.message ?? message.error ?? 'unknown error') };
  }
  const aux = message.aux as { Digest?: unknown } | undefined;
  if (aux && typeof aux.Digest === 'string') return { digest: aux.Digest };
  const status = message.status ?? '';
  if (/^Retrying in \d+ seconds?/.test(status)) {
    ctx.emit({ type: 'daemon-retry', tag, layer: message.id, status });
    return { daemonRetry: true };
  }
  if (message.id && status && !status.startsWith('The push refers to')) {
    const digestLine = DIGEST_LINE.exec(status);
    if (digestLine) return { digest: digestLine[1] };
    layers.set(message.id, status);
    const event: PushEvent = { type: 'layer', tag, layer: message.id, status };
    if (message.progressDetail?.current !== undefined) event.current = message.progressDetail.current;
    if (message.progressDetail?.total !== undefined) event.total = message.progressDetail.total;
    ctx.emit(event);
    return {};
  }
  const digestLine = DIGEST_LINE.exec(status);
  return digestLine ? { digest: digestLine[1] } : {};
}

function countLayers(status: Map<string, string>): LayerCounts {
  const counts: LayerCounts = { pushed: 0, existing: 0, mounted: 0, total: status.size };
  for (const value of status.values()) {
    if (value === 'Pushed') counts.pushed++;
    else if (value === 'Layer already exists') counts.existing++;
    else if (value.startsWith('Mounted from')) counts.mounted++;
  }
  return counts;
}

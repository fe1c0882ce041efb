import { RegistrySettingsError } from './config-errors.js';
import { parseRegistryHost } from '../references/registry-host.js';

/** Where images go: `images.config.json`'s `registry`, with `--registry HOST[:PORT]` as `host` when given. */
export interface RegistrySettings {
  /** `host[:port]` of any registry; an ECR host gives region and account. */
  host?: string;
  /** Amazon ECR without `host`: the region (default `AWS_REGION`, then `AWS_DEFAULT_REGION`). */
  region?: string;
  /** Amazon ECR: the registry's account (cross-account pushes); default the caller's own registry. */
  accountId?: string;
}

/** A checked push destination. */
export interface RegistryDestination {
  /** `host[:port]`, when known before any call; ECR with only a region learns it from the authorization token. */
  host?: string;
  /** The ECR control plane (for ECR hosts and region-only settings). */
  ecr?: { region: string; accountId?: string };
}

const NO_REGISTRY =
  'no registry to push to: pass --registry HOST[:PORT], or set "registry": { "host": "HOST[:PORT]" } (any registry) ' +
  'or { "region": "eu-west-1" } (Amazon ECR) in the images config';

/**
 * Checks push settings without any network call: a `host`, or ECR by region (`region`, else `AWS_REGION` /
 * `AWS_DEFAULT_REGION`) with an optional `accountId`. Called before anything is built.
 * @throws {RegistrySettingsError} no registry configured, or ECR without any region.
 * @throws {InvalidRepositoryError} `host` is not a valid `host[:port]`.
 */
export function resolveRegistryDestination(
  settings: RegistrySettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): RegistryDestination {
  if (settings?.host) {
    const host = settings.host.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    const target = parseRegistryHost(`${host}/x`);
    if (!target.isEcr || !target.region) return { host };
    return { host, ecr: { region: target.region, ...(target.accountId && { accountId: target.accountId }) } };
  }
  if (!settings) throw new RegistrySettingsError(NO_REGISTRY);
  const region = settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new RegistrySettingsError(
      'no AWS region for the ECR registry: set "registry": { "region": … } in the images config, or AWS_REGION',
    );
  }
  const { accountId } = settings;
  return {
    ...(accountId && { host: ecrHost(accountId, region) }),
    ecr: { region, ...(accountId && { accountId }) },
  };
}

/** `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in the China regions). */
export function ecrHost(accountId: string, region: string): string {
  return `${accountId}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * The registry host for `settings` when it is known without any call: `host`, else the ECR host from `accountId` +
 * `region` (the region may come from `AWS_REGION`).
 * @throws {RegistrySettingsError} when no registry is configured, or only an ECR region (the host then comes from the
 *   authorization token at push time).
 */
export function resolveRegistryHost(settings?: RegistrySettings, env: NodeJS.ProcessEnv = process.env): string {
  const { host } = resolveRegistryDestination(settings, env);
  if (host) return host;
  throw new RegistrySettingsError(
    'the ECR registry host is only known from the authorization token (registry has a region but no accountId): ' +
      'pass --registry HOST or set registry.accountId',
  );
}

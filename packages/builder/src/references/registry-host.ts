import { InvalidRepositoryError } from './reference-errors.js';

/** A parsed `host[:port]/name` repository reference. */
export interface RegistryTarget {
  /** `host[:port]`, lower-cased, e.g. `127.0.0.1:5000` or `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  host: string;
  /** Repository path inside the registry, e.g. `4pass/api`. */
  name: string;
  /** `host/name`, the reference the engine pushes. */
  repository: string;
  /** True for `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`. */
  isEcr: boolean;
  region?: string;
  accountId?: string;
  /** Loopback hosts, which the engine (and we) talk to over plain HTTP. */
  isLoopback: boolean;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
// distribution/reference: path components are lower-case alphanumerics joined by ".", "_", "__" or "-"+.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Splits a repository reference into registry host and repository name and recognises ECR registries.
 * @throws {InvalidRepositoryError} when there is no registry host, a tag/digest is included, or the name is invalid.
 */
export function parseRegistryHost(repository: string): RegistryTarget {
  const trimmed = repository.trim();
  if (trimmed.includes('@')) throw new InvalidRepositoryError(repository, 'a digest is not allowed here');
  const slash = trimmed.indexOf('/');
  if (slash <= 0) throw new InvalidRepositoryError(repository, 'no registry host');
  const host = trimmed.slice(0, slash).toLowerCase();
  const name = trimmed.slice(slash + 1);
  if (!(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw new InvalidRepositoryError(repository, `"${host}" is not a registry host (it has no "." or ":port")`);
  }
  if (!/^[a-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-f:]+\](?::\d{1,5})?$/.test(host)) {
    throw new InvalidRepositoryError(repository, `"${host}" is not a valid host[:port]`);
  }
  if (!name) throw new InvalidRepositoryError(repository, 'no repository name after the host');
  if (name.includes(':'))
    throw new InvalidRepositoryError(repository, 'a tag is not allowed here (tags are passed separately)');
  for (const component of name.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw new InvalidRepositoryError(
        repository,
        `path component "${component}" must be lower-case [a-z0-9] joined by . _ __ -`,
      );
    }
  }
  const hostname = host.replace(/:\d+$/, '');
  const ecr = ECR_HOST.exec(hostname);
  const isLoopback = hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]';
  const target: RegistryTarget = { host, name, repository: `${host}/${name}`, isEcr: ecr !== null, isLoopback };
  if (ecr) {
    target.accountId = ecr[1];
    target.region = ecr[2];
  }
  return target;
}

/** `http` for loopback registries (the engine treats 127.0.0.0/8 as insecure), `https` everywhere else. */
export function defaultRegistryScheme(target: Pick<RegistryTarget, 'isLoopback'>): 'http' | 'https' {
  return target.isLoopback ? 'http' : 'https';
}

import { describe, expect, it } from 'vitest';
import { InvalidRepositoryError } from '@4pass/builder';
import { classifyFailure } from '../../../packages/builder/src/push/retry.js';
import { parseRegistryHost } from '../../../packages/builder/src/references/registry-host.js';

describe('parseRegistryHost', () => {
  it('parses an ECR repository with account and region', () => {
    expect(parseRegistryHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com/4pass/api')).toEqual({
      host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      name: '4pass/api',
      repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/4pass/api',
      isEcr: true,
      isLoopback: false,
      accountId: '123456789012',
      region: 'eu-west-1',
    });
    expect(parseRegistryHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/x')).toMatchObject({
      isEcr: true,
      region: 'us-gov-west-1',
    });
    expect(parseRegistryHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/x')).toMatchObject({
      isEcr: true,
      region: 'cn-north-1',
    });
  });

  it('parses generic registries with ports, loopback and nested names', () => {
    expect(parseRegistryHost('127.0.0.1:5000/app')).toEqual({
      host: '127.0.0.1:5000',
      name: 'app',
      repository: '127.0.0.1:5000/app',
      isEcr: false,
      isLoopback: true,
    });
    expect(parseRegistryHost('localhost:5000/a/b-c/d_e')).toMatchObject({
      host: 'localhost:5000',
      name: 'a/b-c/d_e',
      isLoopback: true,
    });
    expect(parseRegistryHost('ghcr.io/acme/api')).toMatchObject({ host: 'ghcr.io', isEcr: false, isLoopback: false });
    expect(parseRegistryHost('Registry.Example.com/acme/api').host).toBe('registry.example.com');
    // A look-alike host is not ECR.
    expect(parseRegistryHost('12345.dkr.ecr.eu-west-1.amazonaws.com/x').isEcr).toBe(false);
  });

  it.each([
    ['app', /no registry host/],
    ['acme/api', /not a registry host/],
    ['127.0.0.1:5000/app:latest', /a tag is not allowed/],
    ['127.0.0.1:5000/app@sha256:abc', /a digest is not allowed/],
    ['127.0.0.1:5000/App', /lower-case/],
    ['127.0.0.1:5000/', /no repository name/],
  ])('rejects %s', (input, message) => {
    expect(() => parseRegistryHost(input)).toThrow(InvalidRepositoryError);
    expect(() => parseRegistryHost(input)).toThrow(message);
  });
});

describe('classifyFailure', () => {
  it.each([
    ['unauthorized: authentication required', 'auth'],
    ['no basic auth credentials', 'auth'],
    ['login attempt to http://127.0.0.1:5055/v2/ failed with status: 401 Unauthorized', 'auth'],
    ['denied: User: arn:aws:iam::1:user/x is not authorized to perform: ecr:InitiateLayerUpload', 'auth'],
    [
      "tag invalid: The image tag 'sha-abc1234' already exists in the 'x' repository and cannot be overwritten because the repository is immutable.",
      'immutable',
    ],
    ['received unexpected HTTP status: 502 Bad Gateway', 'transient'],
    ['Put "https://r/v2/x/blobs/uploads/": read tcp 1.2.3.4:443: connection reset by peer', 'transient'],
    ['Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'transient'],
    ['socket hang up', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['An image does not exist locally with the tag: x', 'fatal'],
    ['manifest invalid: manifest invalid', 'fatal'],
  ])('%s → %s', (message, kind) => {
    expect(classifyFailure(message)).toBe(kind);
  });
});

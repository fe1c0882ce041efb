import { describe, expect, it } from 'vitest';
import { ProfileError, defaultProfile, parseProfile } from '@4pass/optimizer';
import { closeMatches, keptServices } from '../../../packages/optimizer/src/profile/profile.js';

describe('parseProfile', () => {
  it('defaults reproduce the seed worker', () => {
    expect(defaultProfile).toEqual({
      aws: {
        services: ['ecs', 'secretsmanager', 'sts', 'logs', 'sqs'],
        keepCredentialServices: true,
        pruneEndpoints: true,
        dropExamples: true,
      },
      remove: ['pip', 'setuptools', 'wheel', 'pygments'],
      removeOrphans: true,
      strip: { tests: true, docs: true, staleBytecode: true },
    });
    expect(keptServices(defaultProfile)).toEqual([
      'ecs',
      'logs',
      'secretsmanager',
      'signin',
      'sqs',
      'sso',
      'sso-oidc',
      'sts',
    ]);
    expect(keptServices(parseProfile({ aws: { services: ['sqs'], keepCredentialServices: false } }))).toEqual(['sqs']);
  });

  it('an unknown service lists close matches', () => {
    const err = (() => {
      try {
        parseProfile({ aws: { services: ['sqs', 'secretmanager'] } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).name).toBe('ProfileError');
    expect((err as ProfileError).issues).toEqual([
      { path: 'aws.services.1', message: "unknown AWS service 'secretmanager'; did you mean 'secretsmanager'?" },
    ]);
    expect(closeMatches('dynamo', ['dynamodb', 'dynamodbstreams', 'sqs'])).toEqual(['dynamodb']);
  });

  it('reports every problem at once, with paths', () => {
    let err: unknown;
    try {
      parseProfile({ aws: { services: 'sqs', pruneEndpoints: 'yes' }, remove: [1], strip: { docs: 0 }, extra: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    const paths = (err as ProfileError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['', 'aws.pruneEndpoints', 'aws.services', 'remove.0', 'strip.docs']);
    expect((err as ProfileError).message).toContain('aws.services: Invalid input: expected array, received string');
  });

  it('accepts names a newer botocore knows when told', () => {
    expect(() => parseProfile({ aws: { services: ['brand-new'] } })).toThrow(ProfileError);
    expect(parseProfile({ aws: { services: ['brand-new'] } }, { knownServices: ['brand-new'] }).aws.services).toEqual([
      'brand-new',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidRepositoryError, RegistrySettingsError, ecrHost, resolveRegistryDestination } from '@4pass/builder';

describe('resolveRegistryDestination (push settings, checked before anything builds)', () => {
  it('refuses a push with no registry at all, naming both fixes', () => {
    expect(() => resolveRegistryDestination(undefined, {})).toThrow(RegistrySettingsError);
    expect(() => resolveRegistryDestination(undefined, { AWS_REGION: 'eu-west-1' })).toThrow(
      /--registry HOST\[:PORT\].*"registry": \{ "host"/,
    );
  });

  it('takes any registry host as it is, recognising ECR hosts', () => {
    expect(resolveRegistryDestination({ host: '127.0.0.1:5000' }, {})).toEqual({ host: '127.0.0.1:5000' });
    expect(resolveRegistryDestination({ host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' }, {})).toEqual({
      host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      ecr: { region: 'eu-west-1', accountId: '123456789012' },
    });
    expect(() => resolveRegistryDestination({ host: 'not a host' }, {})).toThrow(InvalidRepositoryError);
  });

  it('ECR by region alone (config, AWS_REGION or AWS_DEFAULT_REGION): the host is left to the token', () => {
    expect(resolveRegistryDestination({ region: 'eu-west-1' }, {})).toEqual({ ecr: { region: 'eu-west-1' } });
    expect(resolveRegistryDestination({}, { AWS_DEFAULT_REGION: 'us-east-2' })).toEqual({
      ecr: { region: 'us-east-2' },
    });
    expect(resolveRegistryDestination({}, { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-2' })).toEqual({
      ecr: { region: 'eu-west-1' },
    });
    expect(() => resolveRegistryDestination({}, {})).toThrow(/no AWS region.*"region"/);
  });

  it('with an account id (cross-account) the host is known at once', () => {
    expect(resolveRegistryDestination({ accountId: '210987654321', region: 'eu-west-1' }, {})).toEqual({
      host: '210987654321.dkr.ecr.eu-west-1.amazonaws.com',
      ecr: { region: 'eu-west-1', accountId: '210987654321' },
    });
    expect(ecrHost('210987654321', 'cn-north-1')).toBe('210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn');
  });
});

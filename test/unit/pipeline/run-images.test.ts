import { describe, expect, it } from 'vitest';
import { InvalidRepositoryError, parseConfig, RegistrySettingsError, runImages } from '@4pass/builder';
import { addressOnlyEngine } from './fake-engine.js';

/** Any call on it fails the test: push settings must be refused before anything is asked of the engine. */
const untouchable = addressOnlyEngine('fake://untouchable');

const config = (registry?: object) =>
  parseConfig(
    { ...(registry && { registry }), images: [{ name: 'api', dockerfile: 'D', context: '.' }] },
    '/x/images.config.json',
  );

describe('runImages checks push settings before anything is built', () => {
  it('refuses --push without any registry, naming the fix', async () => {
    const run = runImages({ engine: untouchable, config: config(), push: { env: {} } });
    await expect(run).rejects.toThrow(RegistrySettingsError);
    await expect(run).rejects.toThrow(/--registry HOST\[:PORT\]/);
  });

  it('refuses ECR without a region (none in the config, AWS_REGION or AWS_DEFAULT_REGION)', async () => {
    const run = runImages({ engine: untouchable, config: config({ accountId: '123456789012' }), push: { env: {} } });
    await expect(run).rejects.toThrow(/no AWS region/);
  });

  it('refuses a registry host that is not host[:port], and an unknown image, before anything is built', async () => {
    const host = runImages({
      engine: untouchable,
      config: config(),
      push: { registry: { host: 'not a host' }, env: {} },
    });
    await expect(host).rejects.toThrow(InvalidRepositoryError);
    const only = runImages({ engine: untouchable, config: config(), only: ['nope'] });
    await expect(only).rejects.toThrow(/unknown image "nope" \(configured: api\)/);
  });
});

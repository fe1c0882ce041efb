import { describe, expect, it } from 'vitest';
import { InvalidRepositoryError, parseConfig, RegistrySettingsError, runImages, type Engine } from '@4pass/builder';

/** An engine that fails the test on any call: the push settings must be refused before anything is asked of it. */
const untouchable = new Proxy({ address: 'fake://untouchable', source: 'test' } as Record<string, unknown>, {
  get: (target, key) =>
    key in target || key === 'then'
      ? target[key as string]
      : () => {
          throw new Error(`engine.${String(key)} called`);
        },
}) as unknown as Engine;

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

import type { Engine } from '@4pass/builder';

/** A fake of our `Engine` interface with only an address: any engine call fails the test (the caller must not make it). */
export function addressOnlyEngine(address: string): Engine {
  const known: Record<string, unknown> = { address, source: 'fake' };
  return new Proxy(known, {
    get: (target, key) =>
      key in target || key === 'then'
        ? target[key as string]
        : () => {
            throw new Error(`fake engine ${address}: ${String(key)} was not expected`);
          },
  }) as unknown as Engine;
}

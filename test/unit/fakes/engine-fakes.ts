import type {
  Engine,
  EngineBuilds,
  EngineContainers,
  EngineIdentity,
  EngineImages,
  EngineRegistry,
} from '../../../packages/builder/src/engine/engine.js';

/**
 * One fake per engine role, for unit tests: what a test gives is what the fake does; any other method of the role
 * fails the test, naming itself (the code under test must not call it). Functions take only the roles they use, so a
 * test hands in exactly those — `fakeEngine` combines roles where a caller needs several.
 */
type Methods<T> = { [K in keyof T]?: T[K] };

function role<T extends object>(roleName: string, given: Methods<T>): T {
  return new Proxy(given as T, {
    get: (target, key) =>
      key in target || key === 'then' || typeof key === 'symbol'
        ? (target as Record<PropertyKey, unknown>)[key]
        : () => {
            throw new Error(`fake ${roleName}: ${String(key)} was not expected`);
          },
  });
}

export const fakeBuilds = (given: Methods<EngineBuilds> = {}): EngineBuilds => role('builds', given);
export const fakeImages = (given: Methods<EngineImages> = {}): EngineImages => role('images', given);
export const fakeContainers = (given: Methods<EngineContainers> = {}): EngineContainers => role('containers', given);
export const fakeRegistry = (given: Methods<EngineRegistry> = {}): EngineRegistry => role('registry', given);

/** An engine of the given roles; its identity is `address` (source `fake`) unless given. */
export function fakeEngine(
  address: string,
  roles: {
    identity?: Methods<EngineIdentity>;
    builds?: Methods<EngineBuilds>;
    images?: Methods<EngineImages>;
    containers?: Methods<EngineContainers>;
    registry?: Methods<EngineRegistry>;
  } = {},
): Engine {
  const given = {
    address,
    source: 'fake',
    name: undefined,
    ...roles.identity,
    ...roles.builds,
    ...roles.images,
    ...roles.containers,
    ...roles.registry,
  };
  return role<Engine>(`engine ${address}`, given as Methods<Engine>);
}

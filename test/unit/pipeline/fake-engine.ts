import type { Engine } from '@4pass/builder';
import { fakeEngine } from '../fakes/engine-fakes.js';

/** An engine with only an address: any engine call fails the test (the caller must not make it). */
export function addressOnlyEngine(address: string): Engine {
  return fakeEngine(address);
}

import { connectEngine } from '../../packages/builder/src/engine/connection.js';
import { sweepOrphanedEngines } from './second-engine.js';

/**
 * Engine tests need a real engine. When none answers, the whole run fails here with the adapter's own error (never a
 * silent skip): in CI `.ci/run` starts one through scripts/bootstrap.sh.
 * Second engines (remote-engine tests) of test processes that died without cleaning up are removed before and after
 * the run; a live process's engine is never touched.
 */
export default async function setup(): Promise<() => void> {
  sweepOrphanedEngines();
  const engine = await connectEngine();
  const version = await engine.version();
  process.stdout.write(`engine tests: Docker ${version.version} (API ${version.apiVersion}) at ${engine.address}\n`);
  return () => {
    const swept = sweepOrphanedEngines();
    if (swept.length) process.stdout.write(`engine tests: removed second engines left behind: ${swept.join(', ')}\n`);
  };
}

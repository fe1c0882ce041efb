import { connectEngine } from '../../packages/builder/src/engine/connection.js';

/**
 * Engine tests need a real engine. When none answers, the whole run fails here with the adapter's own error (never a
 * silent skip): in CI `.ci/run` starts one through scripts/bootstrap.sh.
 */
export default async function setup(): Promise<void> {
  const engine = await connectEngine();
  const version = await engine.version();
  process.stdout.write(`engine tests: Docker ${version.version} (API ${version.apiVersion}) at ${engine.address}\n`);
}

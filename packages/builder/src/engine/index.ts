export type * from './engine.js';
export {
  connectEngine,
  connectEngines,
  resolveEngineEndpoint,
  type ConnectOptions,
  type EngineSpec,
} from './connection.js';
export { engineLabel } from './engine.js';
export { DockerEngine } from './docker-engine.js';
export type { EngineTls } from './read-tls-files.js';
export type { SshSettings } from './resolve-ssh-settings.js';

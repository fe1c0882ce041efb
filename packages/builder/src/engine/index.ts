export type * from './engine.js';
export { connectEngine, resolveEngineEndpoint, type ConnectOptions } from './connection.js';
export { DockerEngine } from './docker-engine.js';
export type { EngineTls } from './read-tls-files.js';
export type { SshSettings } from './resolve-ssh-settings.js';

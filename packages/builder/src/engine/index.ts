export type * from './engine.js';
export { connectEngine, resolveEngineEndpoint, type ConnectOptions } from './connection.js';
export { DockerEngine } from './docker-engine.js';

export * from './startup-result.js';
export * from './measure-startup.js';
export {
  removeStaleStartupContainers,
  STARTUP_LABEL,
  STARTUP_OWNER_LABEL,
  type StaleContainerOptions,
} from './stale-containers.js';

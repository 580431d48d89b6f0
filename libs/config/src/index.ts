// Typed configuration: config/default.yaml, config/<NODE_ENV>.yaml, then the
// environment; validated once at boot so a bad value names its key and stops.
export * from './app-config.js';
export { ConfigError, DEV_SECRET_PREFIX, ENV_VARIABLES, loadConfig, loadConfigOrExit, validateConfig } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { ConfigModule } from './config.module.js';
export { parseMqttUrls, type MqttBrokerAddress } from './mqtt-urls.js';

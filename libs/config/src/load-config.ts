import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { load as parseYaml } from 'js-yaml';
import { AppConfig } from './app-config.js';

type Plain = Record<string, unknown>;
type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'json';

/** Environment variables and the configuration key each one sets. The README's table mirrors this list. */
export const ENV_VARIABLES: ReadonlyArray<{ env: string; key: string; kind: EnvKind }> = [
  { env: 'HOST', key: 'host', kind: 'string' },
  { env: 'DATA_DIR', key: 'dataDir', kind: 'string' },
  { env: 'MQTT_PORT', key: 'ports.mqtt', kind: 'int' },
  { env: 'MQTTS_PORT', key: 'ports.mqtts', kind: 'int' },
  { env: 'BROKER_HTTP_PORT', key: 'ports.brokerHttp', kind: 'int' },
  { env: 'PROVISIONING_HTTP_PORT', key: 'ports.provisioningHttp', kind: 'int' },
  { env: 'FAULTS_HTTP_PORT', key: 'ports.faultsHttp', kind: 'int' },
  { env: 'DATABASE_URL', key: 'database.url', kind: 'string' },
  { env: 'REDIS_URL', key: 'redis.url', kind: 'string' },
  { env: 'EVENT_BUS_URL', key: 'eventBus.url', kind: 'string' },
  { env: 'EVENT_BUS_QUEUE_PREFIX', key: 'eventBus.queuePrefix', kind: 'string' },
  { env: 'EVENT_BUS_PARTITIONS', key: 'eventBus.partitions', kind: 'int' },
  { env: 'LOG_LEVEL', key: 'log.level', kind: 'string' },
  { env: 'MQTT_URL', key: 'mqtt.url', kind: 'string' },
  { env: 'MQTT_MAX_PAYLOAD_BYTES', key: 'mqtt.maxPayloadBytes', kind: 'int' },
  { env: 'MQTT_PROVISIONING_PASSWORD', key: 'mqtt.serviceAccounts.provisioning.password', kind: 'string' },
  { env: 'MQTT_FAULT_FEEDBACK_PASSWORD', key: 'mqtt.serviceAccounts.faultFeedback.password', kind: 'string' },
  { env: 'MQTT_TLS_CERT', key: 'mqtt.tls.cert', kind: 'string' },
  { env: 'MQTT_TLS_KEY', key: 'mqtt.tls.key', kind: 'string' },
  { env: 'DEVICE_SECRET_KEY', key: 'devices.secretKey', kind: 'string' },
  { env: 'JWT_SECRET', key: 'auth.jwtSecret', kind: 'string' },
  { env: 'OTP_PEPPER', key: 'auth.otpPepper', kind: 'string' },
  { env: 'ADMIN_PHONES', key: 'auth.adminPhones', kind: 'list' },
  { env: 'SMS_DRIVER', key: 'sms.driver', kind: 'string' },
  { env: 'SMS_OUTBOX', key: 'sms.outbox', kind: 'string' },
  { env: 'SMS_HTTP_URL', key: 'sms.http.url', kind: 'string' },
  { env: 'SMS_HTTP_TOKEN', key: 'sms.http.token', kind: 'string' },
  { env: 'OAUTH_WECHAT_CLIENT_ID', key: 'oauth.wechat.clientId', kind: 'string' },
  { env: 'OAUTH_WECHAT_CLIENT_SECRET', key: 'oauth.wechat.clientSecret', kind: 'string' },
  { env: 'OAUTH_WECHAT_TOKEN_URL', key: 'oauth.wechat.tokenUrl', kind: 'string' },
  { env: 'OAUTH_WECHAT_PROFILE_URL', key: 'oauth.wechat.profileUrl', kind: 'string' },
  { env: 'OAUTH_QQ_CLIENT_ID', key: 'oauth.qq.clientId', kind: 'string' },
  { env: 'OAUTH_QQ_CLIENT_SECRET', key: 'oauth.qq.clientSecret', kind: 'string' },
  { env: 'OAUTH_QQ_TOKEN_URL', key: 'oauth.qq.tokenUrl', kind: 'string' },
  { env: 'OAUTH_QQ_PROFILE_URL', key: 'oauth.qq.profileUrl', kind: 'string' },
  { env: 'CORS_ORIGINS', key: 'cors.origins', kind: 'list' },
  { env: 'CONSOLE_PROVISIONING_URL', key: 'console.provisioningUrl', kind: 'string' },
  { env: 'FIRMWARE_SIGNING_KEYS', key: 'firmware.signingKeys', kind: 'json' },
  { env: 'FIRMWARE_STORAGE_DIR', key: 'firmware.storageDir', kind: 'string' },
  { env: 'FIRMWARE_MAX_IMAGE_BYTES', key: 'firmware.maxImageBytes', kind: 'int' },
  { env: 'FIRMWARE_DOWNLOAD_BASE_URL', key: 'firmware.downloadBaseUrl', kind: 'string' },
  { env: 'TRUST_PROXY', key: 'http.trustProxy', kind: 'string' },
  { env: 'HTTP_DOCS', key: 'http.docs', kind: 'string' },
];

/** Development secrets carry this prefix; production refuses them. */
export const DEV_SECRET_PREFIX = 'dev-only-';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** Folder holding default.yaml and <env>.yaml; defaults to ./config. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last, e.g. by tests or by the launcher after picking ports. */
  overrides?: Plain;
}

/** Reads config/default.yaml, config/<NODE_ENV>.yaml and the environment, then validates. Throws ConfigError naming the key. */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const configDir = resolve(options.configDir ?? env.CONFIG_DIR ?? 'config');
  const nodeEnv = env.NODE_ENV || 'development';
  let merged: Plain = { env: nodeEnv };
  for (const file of ['default.yaml', `${nodeEnv}.yaml`]) {
    const path = join(configDir, file);
    if (!existsSync(path)) continue;
    const parsed = parseYaml(readFileSync(path, 'utf8'));
    if (parsed !== undefined && parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`Invalid configuration: ${path} must hold a mapping of keys`);
    }
    merged = deepMerge(merged, (parsed as Plain) ?? {});
  }
  for (const { env: name, key, kind } of ENV_VARIABLES) {
    const raw = env[name];
    if (raw === undefined || (raw === '' && kind !== 'string')) continue;
    setPath(merged, key, parseEnv(raw, kind, name, key));
  }
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  return validateConfig(merged);
}

export function validateConfig(plain: Plain): AppConfig {
  const config = plainToInstance(AppConfig, plain);
  const errors = validateSync(config, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const [first] = flatten(errors);
    const reason = first.message.replace(/^property /, '');
    const envName = ENV_VARIABLES.find((variable) => variable.key === first.key)?.env;
    throw new ConfigError(`Invalid configuration: ${first.key}${envName ? ` (env ${envName})` : ''}: ${reason}`);
  }
  if (config.env === 'production') {
    const devSecret = findDevSecrets(plain)[0];
    if (devSecret) {
      throw new ConfigError(
        `Invalid configuration: ${devSecret} holds a development secret ("${DEV_SECRET_PREFIX}..."), refused when NODE_ENV=production`,
      );
    }
    if (config.sms.driver === 'outbox') {
      throw new ConfigError(
        'Invalid configuration: sms.driver (env SMS_DRIVER): "outbox" writes sign-in codes to a file; use "http" when NODE_ENV=production',
      );
    }
  }
  return config;
}

function findDevSecrets(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return value.startsWith(DEV_SECRET_PREFIX) ? [prefix] : [];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, child]) => findDevSecrets(child, prefix ? `${prefix}.${key}` : key));
  }
  return [];
}

function flatten(errors: ValidationError[], prefix = ''): Array<{ key: string; message: string }> {
  return errors.flatMap((error) => {
    const key = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      key,
      message: message.replace(error.property, key),
    }));
    return [...own, ...flatten(error.children ?? [], key)];
  });
}

function parseEnv(raw: string, kind: EnvKind, name: string, key: string): unknown {
  switch (kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`Invalid configuration: ${key} (env ${name}): "${raw}" is not a whole number`);
      return Number(raw);
    }
    case 'bool':
      return ['1', 'true', 'yes'].includes(raw.toLowerCase());
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new ConfigError(`Invalid configuration: ${key} (env ${name}): not valid JSON`);
      }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Plain;
  }
  node[keys[keys.length - 1]] = value;
}

function deepMerge(base: Plain, extra: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlain(current) && isPlain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * For command-line entry points (npm start, the apps, the tools): the
 * configuration, or the one-line reason on stderr and exit code 1.
 */
export function loadConfigOrExit(options: LoadConfigOptions = {}): AppConfig {
  try {
    return loadConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

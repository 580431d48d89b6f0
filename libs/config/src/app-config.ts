import 'reflect-metadata';
import { createPublicKey } from 'node:crypto';
import { Type } from 'class-transformer';
import { isIP } from 'node:net';
import { parseMqttUrls } from './mqtt-urls.js';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';

const PORT = [Min(0), Max(65535), IsInt()];
const applyAll =
  (decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) =>
    decorators.forEach((decorate) => decorate(target, key));
const Port = () => applyAll(PORT);

export class PortsConfig {
  @Port() mqtt!: number;
  @Port() mqtts!: number;
  @Port() brokerHttp!: number;
  @Port() provisioningHttp!: number;
  @Port() faultsHttp!: number;
}

export class DatabaseConfig {
  @Matches(/^(|postgres(ql)?:\/\/.+)$/, { message: '$property must be empty or a postgres:// URL' })
  url!: string;
  @IsBoolean() logQueries!: boolean;
}

export class RedisConfig {
  @Matches(/^(|rediss?:\/\/.+)$/, { message: '$property must be empty or a redis:// URL' })
  url!: string;
}

/** An amqp:// URL the client can dial: one host, a port when given, nothing a list or a typo leaves behind. */
function isAmqpUrl(value: unknown): boolean {
  if (value === '') return true;
  if (typeof value !== 'string' || !/^amqps?:\/\/[^,\s]+$/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.hostname !== '' && (url.port === '' || Number(url.port) > 0);
  } catch {
    return false;
  }
}

/** RabbitMQ between broker nodes and services (EVENT_BUS_URL); empty means no bus. */
export class EventBusConfig {
  @ValidateBy({
    name: 'isAmqpUrl',
    validator: {
      validate: isAmqpUrl,
      defaultMessage: () => '$property must be empty or one amqp:// or amqps:// URL (amqp://user:pass@host:5672/vhost)',
    },
  })
  url!: string;
  /** Names of the exchanges and queues start with this, so several deployments (or test suites) share one RabbitMQ. */
  @Matches(/^[a-z0-9][a-z0-9_-]{0,39}$/, { message: '$property must be 1-40 lowercase letters, digits, - or _' })
  queuePrefix!: string;
  /** Queues per consuming service; a device's messages always go to the same one (hash of its SN). Fixed once chosen. */
  @IsInt() @Min(1) @Max(256) partitions!: number;
  /** Deliveries of one message before it goes to the dead-letter queue. */
  @IsInt() @Min(1) @Max(100) deliveryLimit!: number;
  /** Unacknowledged RabbitMQ messages (a batch of device messages counts as one) a service holds per partition, so batching handlers can batch. */
  @IsInt() @Min(1) @Max(10000) prefetch!: number;
}

export class LogConfig {
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) level!: string;
}

export class MqttAccountConfig {
  @IsString() @MinLength(1) username!: string;
  @IsString() @MinLength(12) password!: string;
}

export class ServiceAccountsConfig {
  @ValidateNested() @Type(() => MqttAccountConfig) provisioning!: MqttAccountConfig;
  @ValidateNested() @Type(() => MqttAccountConfig) faultFeedback!: MqttAccountConfig;
}

/** An MQTT topic filter: `+` and `#` only as whole levels, `#` only last. */
const MQTT_FILTER = /^(?=.)(?:(?:\+|[^/+#]*)\/)*(?:\+|#|[^/+#]*)$/;
const MqttFilters = () =>
  applyAll([
    IsArray(),
    Matches(MQTT_FILTER, { each: true, message: '$property must list MQTT topic filters (+ and # only as whole levels)' }),
  ]);

/**
 * An account an operator adds (monitoring, integrations): a scrypt password
 * hash, the filters it may publish to and subscribe with, and optionally
 * filters taken back out of them (`denyPublish`, `denySubscribe`), e.g.
 * subscribe `#` with denySubscribe `devices/+/faults`.
 */
export class OperatorMqttAccountConfig {
  @IsString() @Matches(/^[A-Za-z0-9_.-]{1,64}$/) username!: string;
  @Matches(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, {
    message: '$property must be a hash made by `npm run mqtt:hash-password`',
  })
  passwordHash!: string;
  @MqttFilters() publish!: string[];
  @MqttFilters() subscribe!: string[];
  /** A publish to a topic one of these matches is refused, even where `publish` grants it. */
  @MqttFilters() denyPublish: string[] = [];
  /** A subscription whose filter could match a topic one of these matches is refused (SUBACK 128). */
  @MqttFilters() denySubscribe: string[] = [];
}

/** Failed CONNECTs (wrong secret or password, unknown SN) per username and per source address (EN 303 645 5.1-5). */
export class MqttAuthThrottleConfig {
  /** Failures are counted in a window opened by the first one. */
  @IsInt() @Min(1) windowSeconds!: number;
  /** Failures of one username (a device's SN, an operator account) in a window before it is refused for a while. */
  @IsInt() @Min(1) maxFailuresPerUsername!: number;
  /** Failures from one address (IPv6: one /64) in a window before every CONNECT from it is refused for a while. */
  @IsInt() @Min(1) maxFailuresPerAddress!: number;
  /** The first refusal period; each further one in a row doubles, up to maxBlockSeconds. */
  @IsInt() @Min(1) blockSeconds!: number;
  @IsInt() @Min(1) maxBlockSeconds!: number;
}

export class MqttTlsConfig {
  /** PEM files; the TLS listener (ports.mqtts) starts only when both are set. */
  @IsString() cert!: string;
  @IsString() key!: string;
}

export class MqttConfig {
  @ValidateBy({
    name: 'isMqttUrlList',
    validator: {
      validate: (value: unknown) => parseMqttUrls(value) !== undefined,
      defaultMessage: () => '$property must be mqtt://host:port or mqtts://host:port, or several of them comma-separated',
    },
  })
  url!: string;
  @IsInt() @Min(1024) @Max(268435455) maxPayloadBytes!: number;
  @ValidateNested() @Type(() => ServiceAccountsConfig) serviceAccounts!: ServiceAccountsConfig;
  @IsArray() @ValidateNested({ each: true }) @Type(() => OperatorMqttAccountConfig) operatorAccounts!: OperatorMqttAccountConfig[];
  @ValidateNested() @Type(() => MqttTlsConfig) tls!: MqttTlsConfig;
  @ValidateNested() @Type(() => MqttAuthThrottleConfig) authThrottle!: MqttAuthThrottleConfig;
  /** How long a device's credential hash stays in a broker's memory without a database read. */
  @IsInt() @Min(1) authCacheTtlSeconds!: number;
  @IsInt() @Min(1000) authCacheMaxEntries!: number;
  /** Last-seen times are written in one statement per interval, not one per ping. */
  @IsInt() @Min(100) presenceFlushMs!: number;
  /** On SIGTERM, how long in-flight QoS 1 deliveries get to finish before connections close. */
  @IsInt() @Min(0) shutdownGraceMs!: number;
}

export class DevicesConfig {
  /** Keys the HMAC of device secrets and claim codes; shared by provisioning, the broker and the import CLI. */
  @IsString() @MinLength(32) secretKey!: string;
}

/** Pairing an appliance to an account (POST /v1/pairings, then the device confirms). */
export class PairingConfig {
  /** How long a pairing token may be confirmed by the appliance. */
  @IsInt() @Min(30) @Max(86400) tokenTtlSeconds!: number;
  /** Wrong tokens presented by the appliance before its pending pairings are rejected. */
  @IsInt() @Min(1) maxWrongTokens!: number;
  /** Wrong QR claim codes an account may present per hour before it gets 429. */
  @IsInt() @Min(1) claimFailuresPerHour!: number;
}

export class OtpConfig {
  @IsInt() @Min(30) ttlSeconds!: number;
  @IsInt() @Min(1) maxAttempts!: number;
  @IsInt() @Min(1) perPhonePerHour!: number;
  @IsInt() @Min(1) perIpPerHour!: number;
}

export class AuthConfig {
  @IsString() @MinLength(32) jwtSecret!: string;
  @IsString() @MinLength(16) otpPepper!: string;
  @IsInt() @Min(60) accessTokenTtlSeconds!: number;
  @IsInt() @Min(1) refreshTokenTtlDays!: number;
  @IsArray()
  @Matches(/^\+[1-9]\d{7,14}$/, { each: true, message: '$property must list E.164 phone numbers' })
  adminPhones!: string[];
  @ValidateNested() @Type(() => OtpConfig) otp!: OtpConfig;
}

export class SmsHttpConfig {
  @Matches(/^(|https?:\/\/.+)$/, { message: '$property must be empty or an http(s) URL' }) url!: string;
  @IsString() token!: string;
}

export class SmsConfig {
  @IsIn(['outbox', 'http']) driver!: 'outbox' | 'http';
  @IsString() @MinLength(1) outbox!: string;
  @ValidateNested() @Type(() => SmsHttpConfig) http!: SmsHttpConfig;
}

export class OAuthProviderConfig {
  @IsString() clientId!: string;
  @IsString() clientSecret!: string;
  @Matches(/^(|https?:\/\/.+)$/, { message: '$property must be empty or an http(s) URL' }) tokenUrl!: string;
  @Matches(/^(|https?:\/\/.+)$/, { message: '$property must be empty or an http(s) URL' }) profileUrl!: string;
}

export class OAuthConfig {
  @ValidateNested() @Type(() => OAuthProviderConfig) wechat!: OAuthProviderConfig;
  @ValidateNested() @Type(() => OAuthProviderConfig) qq!: OAuthProviderConfig;
}

/** Browsers on other origins that may call the HTTP APIs; pages from the API's own host name (the console) always may. */
export class CorsConfig {
  @IsArray()
  @Matches(/^https?:\/\/[^/]+$/, { each: true, message: '$property must list origins like https://console.example.com' })
  origins!: string[];
}

/** Fault reports over MQTT (fault-feedback). */
export class FaultsConfig {
  /** Reports stored in one transaction at most. */
  @IsInt() @Min(1) @Max(5000) batchMaxSize!: number;
  /** How long a report waits for others to share its transaction. */
  @IsInt() @Min(0) @Max(1000) batchWindowMs!: number;
  /** Batches in work at once. */
  @IsInt() @Min(1) @Max(16) batchConcurrency!: number;
  /** Longest pause between retries while the database is unreachable. */
  @IsInt() @Min(100) retryMaxDelayMs!: number;
  /** An occurredAt later than now plus this is refused (device clocks drift, but not by days). */
  @IsInt() @Min(0) maxFutureSkewSeconds!: number;
  /** Largest fault report payload accepted, in bytes. */
  @IsInt() @Min(256) maxReportBytes!: number;
}

/** Appliance readings over MQTT (provisioning consumes devices/+/telemetry). */
export class TelemetryConfig {
  /** Messages stored in one transaction at most. */
  @IsInt() @Min(1) @Max(5000) batchMaxMessages!: number;
  /** How long a message waits for others to share its transaction. */
  @IsInt() @Min(0) @Max(1000) batchWindowMs!: number;
  /** Batches in work at once; each device's messages always go to the same one, so two never touch the same rows. */
  @IsInt() @Min(1) @Max(16) lanes!: number;
  /** Longest pause between retries while the database is unreachable. */
  @IsInt() @Min(100) retryMaxDelayMs!: number;
}

/** The service console that fault-feedback serves at /console. */
export class ConsoleConfig {
  /** Where browsers reach provisioning for sign-in; empty = the console's own host name on ports.provisioningHttp. */
  @Matches(/^(|https?:\/\/.+)$/, { message: '$property must be empty or an http(s) URL' }) provisioningUrl!: string;
}

/** A PEM public key that node:crypto reads as Ed25519. */
const IsEd25519PublicKeyPem = () =>
  ValidateBy({
    name: 'isEd25519PublicKeyPem',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          return createPublicKey(value).asymmetricKeyType === 'ed25519';
        } catch {
          return false;
        }
      },
      defaultMessage: () => '$property must be an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----)',
    },
  });

/** One of the maker's firmware signing keys: images must carry an Ed25519 signature one of these verifies. */
export class FirmwareSigningKeyConfig {
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: '$property must be 1-64 characters of A-Z a-z 0-9 _ . -' }) id!: string;
  @IsEd25519PublicKeyPem() publicKey!: string;
}

/** Signed firmware images and update campaigns (provisioning). */
export class FirmwareConfig {
  @IsArray()
  @ArrayUnique((key: FirmwareSigningKeyConfig) => key?.id, { message: '$property must not name a key id twice' })
  @ValidateNested({ each: true })
  @Type(() => FirmwareSigningKeyConfig)
  signingKeys!: FirmwareSigningKeyConfig[];
  /** Where images are kept; empty = <dataDir>/firmware. Every provisioning replica must see the same folder. */
  @IsString() storageDir!: string;
  /** Largest image accepted, in bytes (the contract's ceiling is 64 MiB). */
  @IsInt() @Min(1) @Max(64 * 1024 * 1024) maxImageBytes!: number;
  /** How devices reach provisioning for downloads; empty = http://127.0.0.1:<provisioning's port> (development). */
  @Matches(/^(|https?:\/\/[^?#]+)$/, { message: '$property must be empty or an http(s) URL without query' }) downloadBaseUrl!: string;
  /** How often a replica looks for jobs past their deadline. */
  @IsInt() @Min(50) sweepIntervalMs!: number;
}

/** Desired state of devices (provisioning). */
export class StateConfig {
  /** How often a replica expires control requests past their deadline. */
  @IsInt() @Min(50) sweepIntervalMs!: number;
}

const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** Express "trust proxy": empty (no proxy), a hop count, or the proxies' addresses, subnets and named ranges. */
function isTrustProxy(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value === '' || /^\d{1,2}$/.test(value)) return true;
  return value.split(',').every((entry) => {
    const [address, prefix, ...rest] = entry.trim().split('/');
    if (rest.length > 0) return false;
    if (NAMED_RANGES.includes(address) && prefix === undefined) return true;
    const family = isIP(address);
    return family !== 0 && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)));
  });
}

/** At most `limit` requests per client address in `windowSeconds`; beyond, 429 until the window has passed. */
export class RateLimitConfig {
  @IsInt() @Min(1) limit!: number;
  @IsInt() @Min(1) @Max(86400) windowSeconds!: number;
}

/** Routes limited per client address (the OTP request has its own limits under auth.otp). */
export class RateLimitsConfig {
  @ValidateNested() @Type(() => RateLimitConfig) refresh!: RateLimitConfig;
  @ValidateNested() @Type(() => RateLimitConfig) oauth!: RateLimitConfig;
  @ValidateNested() @Type(() => RateLimitConfig) members!: RateLimitConfig;
  @ValidateNested() @Type(() => RateLimitConfig) pairings!: RateLimitConfig;
}

/** What every HTTP app does with requests before they reach a route. */
export class HttpConfig {
  /** Whose X-Forwarded-For to believe (the load balancer's); the client's address then comes from it, for per-address limits. */
  @ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: isTrustProxy,
      defaultMessage: () =>
        '$property must be empty, a hop count, or comma-separated proxy addresses, subnets (10.0.0.0/8) or loopback, linklocal, uniquelocal',
    },
  })
  trustProxy!: string;
  /** The OpenAPI page at /docs: `auto` serves it except when NODE_ENV=production. */
  @IsIn(['auto', 'on', 'off']) docs!: 'auto' | 'on' | 'off';
  /** A JSON body nested deeper than this is refused with 400 before it is parsed. */
  @IsInt() @Min(2) @Max(512) maxJsonDepth!: number;
  /** Counted in Redis when redis.url is set, so every replica shares one budget per client; else in each process. */
  @ValidateNested() @Type(() => RateLimitsConfig) rateLimits!: RateLimitsConfig;
}

/** The one typed configuration object every app, CLI and test reads. */
export class AppConfig {
  @IsIn(['development', 'test', 'production']) env!: 'development' | 'test' | 'production';
  @IsString() host!: string;
  @IsString() @MinLength(1) dataDir!: string;
  @ValidateNested() @Type(() => PortsConfig) ports!: PortsConfig;
  @ValidateNested() @Type(() => DatabaseConfig) database!: DatabaseConfig;
  @ValidateNested() @Type(() => RedisConfig) redis!: RedisConfig;
  @ValidateNested() @Type(() => EventBusConfig) eventBus!: EventBusConfig;
  @ValidateNested() @Type(() => LogConfig) log!: LogConfig;
  @ValidateNested() @Type(() => MqttConfig) mqtt!: MqttConfig;
  @ValidateNested() @Type(() => DevicesConfig) devices!: DevicesConfig;
  @ValidateNested() @Type(() => PairingConfig) pairing!: PairingConfig;
  @ValidateNested() @Type(() => AuthConfig) auth!: AuthConfig;
  @ValidateNested() @Type(() => SmsConfig) sms!: SmsConfig;
  @ValidateNested() @Type(() => OAuthConfig) oauth!: OAuthConfig;
  @ValidateNested() @Type(() => CorsConfig) cors!: CorsConfig;
  @ValidateNested() @Type(() => ConsoleConfig) console!: ConsoleConfig;
  @ValidateNested() @Type(() => FaultsConfig) faults!: FaultsConfig;
  @ValidateNested() @Type(() => FirmwareConfig) firmware!: FirmwareConfig;
  @ValidateNested() @Type(() => StateConfig) state!: StateConfig;
  @ValidateNested() @Type(() => HttpConfig) http!: HttpConfig;
  @ValidateNested() @Type(() => TelemetryConfig) telemetry!: TelemetryConfig;
}

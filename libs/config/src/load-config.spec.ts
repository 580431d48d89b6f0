import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './load-config.js';
import { parseMqttUrls } from './mqtt-urls.js';

const configDir = join(process.cwd(), 'config');
const load = (env: Record<string, string>) => loadConfig({ configDir, env: { NODE_ENV: 'development', ...env } });

describe('configuration', () => {
  it('reads the defaults, then the environment', () => {
    const config = load({ MQTT_PORT: '0', ADMIN_PHONES: '+8613700000001, +8613700000002', DATABASE_URL: 'postgres://u@db/x' });
    expect(config.ports.mqtt).toBe(0);
    expect(config.ports.provisioningHttp).toBe(3000);
    expect(config.auth.adminPhones).toEqual(['+8613700000001', '+8613700000002']);
    expect(config.database.url).toBe('postgres://u@db/x');
    expect(config.sms.driver).toBe('outbox');
  });

  it('takes one amqp:// URL for the event bus, and never repeats it (with its password) in a refusal', () => {
    expect(load({ EVENT_BUS_URL: 'amqp://user:secret@rabbit:5672/appliances' }).eventBus.url).toBe(
      'amqp://user:secret@rabbit:5672/appliances',
    );
    expect(load({}).eventBus.url).toBe('');
    expect(() => load({ EVENT_BUS_URL: 'amqp://user:secret@a:5672,b:5672' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });

  it('layers config/<NODE_ENV>.yaml over the defaults', () => {
    const config = loadConfig({ configDir, env: { NODE_ENV: 'test' } });
    expect(config.ports.mqtt).toBe(0);
    expect(config.log.level).toBe('silent');
  });

  it.each([
    [{ MQTT_PORT: 'abc' }, /ports\.mqtt \(env MQTT_PORT\)/],
    [{ PROVISIONING_HTTP_PORT: '70000' }, /ports\.provisioningHttp \(env PROVISIONING_HTTP_PORT\)/],
    [{ DATABASE_URL: 'mysql://x' }, /database\.url \(env DATABASE_URL\)/],
    [{ SMS_DRIVER: 'pigeon' }, /sms\.driver \(env SMS_DRIVER\)/],
    [{ ADMIN_PHONES: '12345' }, /auth\.adminPhones \(env ADMIN_PHONES\)/],
    [{ JWT_SECRET: 'short' }, /auth\.jwtSecret \(env JWT_SECRET\)/],
    [{ FIRMWARE_SIGNING_KEYS: '[{"id":' }, /firmware\.signingKeys \(env FIRMWARE_SIGNING_KEYS\): not valid JSON/],
    [{ FIRMWARE_SIGNING_KEYS: '[{"id":"k1","publicKey":"not a key"}]' }, /firmware\.signingKeys\.0\.publicKey/],
    [{ FIRMWARE_MAX_IMAGE_BYTES: String(65 * 1024 * 1024) }, /firmware\.maxImageBytes \(env FIRMWARE_MAX_IMAGE_BYTES\)/],
    [{ TRUST_PROXY: 'true' }, /http\.trustProxy \(env TRUST_PROXY\): http\.trustProxy must be empty, a hop count/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /http\.trustProxy \(env TRUST_PROXY\)/],
    [{ HTTP_DOCS: 'yes' }, /http\.docs \(env HTTP_DOCS\)/],
    [{ MQTT_URL: 'mqtt://a:p1,mqtt://b:p2' }, /mqtt\.url \(env MQTT_URL\): mqtt\.url must be mqtt:\/\/host:port/],
    [{ MQTT_URL: 'http://broker-1:1883' }, /mqtt\.url \(env MQTT_URL\)/],
    [{ MQTT_URL: 'mqtt://broker-1:1883,' }, /mqtt\.url \(env MQTT_URL\)/],
    [{ MQTT_URL: 'mqtt://broker-1:70000' }, /mqtt\.url \(env MQTT_URL\)/],
    [{ EVENT_BUS_URL: 'amqp://a:5672,amqp://b:5672' }, /eventBus\.url \(env EVENT_BUS_URL\): eventBus\.url must be empty or one amqp:\/\//],
    [{ EVENT_BUS_URL: 'rabbit:5672' }, /eventBus\.url \(env EVENT_BUS_URL\)/],
    [{ EVENT_BUS_URL: 'amqp://guest:guest@host:0/' }, /eventBus\.url \(env EVENT_BUS_URL\)/],
    [{ EVENT_BUS_PARTITIONS: '0' }, /eventBus\.partitions \(env EVENT_BUS_PARTITIONS\)/],
    [{ EVENT_BUS_QUEUE_PREFIX: 'Has Space' }, /eventBus\.queuePrefix \(env EVENT_BUS_QUEUE_PREFIX\)/],
  ])('stops on a bad value and names the key: %j', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('reads firmware signing keys from FIRMWARE_SIGNING_KEYS as JSON, and refuses a key that is not Ed25519 or an id given twice', () => {
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const config = load({ FIRMWARE_SIGNING_KEYS: JSON.stringify([{ id: 'maker-2025', publicKey: ed25519 }]) });
    expect(config.firmware.signingKeys).toEqual([{ id: 'maker-2025', publicKey: ed25519 }]);
    expect(() => load({ FIRMWARE_SIGNING_KEYS: JSON.stringify([{ id: 'old', publicKey: rsa }]) })).toThrow(
      /firmware\.signingKeys\.0\.publicKey .*must be an Ed25519 public key/,
    );
    const twice = JSON.stringify([
      { id: 'k', publicKey: ed25519 },
      { id: 'k', publicKey: ed25519 },
    ]);
    expect(() => load({ FIRMWARE_SIGNING_KEYS: twice })).toThrow(/firmware\.signingKeys .*must not name a key id twice/);
  });

  it('takes the proxies to trust as a hop count or a list of addresses, subnets and named ranges', () => {
    expect(load({}).http.trustProxy).toBe('');
    expect(load({ TRUST_PROXY: '1' }).http.trustProxy).toBe('1');
    expect(load({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1' }).http.trustProxy).toBe(
      'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1',
    );
  });

  it('takes MQTT_URL as one broker node or several, comma-separated', () => {
    const config = loadConfig({ configDir, env: { NODE_ENV: 'test', MQTT_URL: 'mqtt://broker-1:1883, mqtts://broker-2' } });
    expect(parseMqttUrls(config.mqtt.url)).toEqual([
      { protocol: 'mqtt', host: 'broker-1', port: 1883 },
      { protocol: 'mqtts', host: 'broker-2', port: 8883 },
    ]);
  });

  it('refuses an unknown key in a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const defaults = readFileSync(join(configDir, 'default.yaml'), 'utf8');
    writeFileSync(join(dir, 'default.yaml'), defaults.replace('ports:\n', 'ports:\n  mqttt: 1\n'));
    expect(() => loadConfig({ configDir: dir, env: { NODE_ENV: 'development' } })).toThrow(/ports\.mqttt/);
  });

  it('refuses development secrets in production, naming the key', () => {
    expect(() =>
      loadConfig({ configDir, env: { NODE_ENV: 'production', SMS_DRIVER: 'http', SMS_HTTP_URL: 'https://sms.example' } }),
    ).toThrow(/mqtt\.serviceAccounts\.provisioning\.password holds a development secret/);
  });

  it('accepts production once every secret is replaced', () => {
    const secret = (label: string) => `${label}-${'x'.repeat(40)}`;
    const config = loadConfig({
      configDir,
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://app@db:5432/app',
        JWT_SECRET: secret('jwt'),
        OTP_PEPPER: secret('pepper'),
        MQTT_PROVISIONING_PASSWORD: secret('prov'),
        MQTT_FAULT_FEEDBACK_PASSWORD: secret('faults'),
        DEVICE_SECRET_KEY: secret('devices'),
        SMS_DRIVER: 'http',
        SMS_HTTP_URL: 'https://sms.example/send',
      },
    });
    expect(config.env).toBe('production');
  });

  it('refuses the outbox SMS driver in production', () => {
    const secret = (label: string) => `${label}-${'x'.repeat(40)}`;
    expect(() =>
      loadConfig({
        configDir,
        env: {
          NODE_ENV: 'production',
          JWT_SECRET: secret('jwt'),
          OTP_PEPPER: secret('pepper'),
          MQTT_PROVISIONING_PASSWORD: secret('prov'),
          MQTT_FAULT_FEEDBACK_PASSWORD: secret('faults'),
          DEVICE_SECRET_KEY: secret('devices'),
        },
      }),
    ).toThrow(/sms\.driver/);
  });

  it('takes operator MQTT accounts with deny filters, and refuses a filter that is not one', () => {
    const auditor = {
      username: 'auditor',
      passwordHash: 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo',
      publish: ['#'],
      subscribe: ['#'],
      denySubscribe: ['devices/+/faults'],
    };
    const withAccount = (account: Record<string, unknown>) =>
      loadConfig({ configDir, env: { NODE_ENV: 'test' }, overrides: { mqtt: { operatorAccounts: [account] } } });
    const [account] = withAccount(auditor).mqtt.operatorAccounts;
    expect(account.denySubscribe).toEqual(['devices/+/faults']);
    expect(account.denyPublish).toEqual([]);
    expect(() => withAccount({ ...auditor, denySubscribe: ['devices/fa#'] })).toThrow(
      /mqtt\.operatorAccounts\.0\.denySubscribe: .*MQTT topic filters/,
    );
    expect(() => withAccount({ ...auditor, publish: ['a/#/b'] })).toThrow(/mqtt\.operatorAccounts\.0\.publish/);
  });
});

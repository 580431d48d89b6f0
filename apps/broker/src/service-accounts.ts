import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '#libs/config';
import { SERVICE_GRANTS, type MqttIdentity } from '#libs/mqtt-contract';
import type { ConfiguredAccount } from './connect-decision.js';

type ServiceIdentity = Extract<MqttIdentity, { kind: 'service' }>;

interface Account {
  kind: ConfiguredAccount;
  identity: ServiceIdentity;
  username: string;
  verify(password: Buffer): Promise<boolean>;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 };

/** `scrypt$N$r$p$salt$hash` for an operator-defined account's password (config: mqtt.operatorAccounts). */
export async function hashServicePassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(Buffer.from(password), salt, SCRYPT.keyLength, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/**
 * The broker's non-device accounts: the built-in services (their password is
 * in config because they connect with it; the broker keeps only a hash) and
 * operator-defined accounts (config holds only a scrypt hash: their passwords
 * may be human-chosen, and they connect rarely, so a slow hash costs nothing).
 */
export class ServiceAccountDirectory {
  private readonly accounts = new Map<string, Account>();

  constructor(config: AppConfig) {
    const builtIn = [
      ['provisioning', config.mqtt.serviceAccounts.provisioning, SERVICE_GRANTS.provisioning],
      ['faultFeedback', config.mqtt.serviceAccounts.faultFeedback, SERVICE_GRANTS.faultFeedback],
    ] as const;
    for (const [name, account, grant] of builtIn) {
      const passwordHash = sha256(account.password);
      this.accounts.set(account.username, {
        kind: 'service',
        username: account.username,
        identity: { kind: 'service', name, publish: grant.publish, subscribe: grant.subscribe },
        verify: async (password) => timingSafeEqual(passwordHash, sha256(password)),
      });
    }
    for (const account of config.mqtt.operatorAccounts ?? []) {
      const [, n, r, p, salt, hash] = account.passwordHash.split('$');
      const expected = Buffer.from(hash, 'base64url');
      this.accounts.set(account.username, {
        kind: 'operator',
        username: account.username,
        identity: {
          kind: 'service',
          name: account.username,
          publish: [...account.publish],
          subscribe: [...account.subscribe],
          denyPublish: [...(account.denyPublish ?? [])],
          denySubscribe: [...(account.denySubscribe ?? [])],
        },
        verify: async (password) => {
          const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
            N: Number(n),
            r: Number(r),
            p: Number(p),
          });
          return timingSafeEqual(actual, expected);
        },
      });
    }
  }

  /**
   * What the username names: a built-in service, an operator account, or
   * nothing configured (then it can only be a device). Service usernames are
   * never device SNs: a device cannot log in as a service, nor a service as a device.
   */
  kindOf(username: string | undefined): ConfiguredAccount | undefined {
    return username ? this.accounts.get(username)?.kind : undefined;
  }

  /** The account's identity when the password matches and the clientId starts with the username. */
  async verify(username: string, password: Buffer, clientId: string): Promise<ServiceIdentity | undefined> {
    const account = this.accounts.get(username);
    if (!account || !clientId.startsWith(account.username)) return undefined;
    return (await account.verify(password)) ? account.identity : undefined;
  }
}

function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

function scryptAsync(password: Buffer, salt: Buffer, keyLength: number, options: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '#libs/config';

interface Account {
  name: string;
  username: string;
  passwordHash: Buffer;
}

/** The services' own MQTT accounts. Passwords are held only as hashes and compared in constant time. */
export class ServiceAccountDirectory {
  private readonly accounts = new Map<string, Account>();

  constructor(config: AppConfig) {
    for (const [name, account] of Object.entries(config.mqtt.serviceAccounts)) {
      this.accounts.set(account.username, { name, username: account.username, passwordHash: hash(account.password) });
    }
  }

  verify(username: string | undefined, password: Buffer | undefined): Account | undefined {
    if (!username || !password) return undefined;
    const account = this.accounts.get(username);
    if (!account) return undefined;
    return timingSafeEqual(account.passwordHash, hash(password)) ? account : undefined;
  }
}

function hash(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

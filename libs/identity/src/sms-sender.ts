import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';

/** Where one-time codes go. Injectable, so tests and deployments choose the driver. */
export abstract class SmsSender {
  abstract sendCode(to: string, code: string): Promise<void>;
}

/** Development driver: one JSON line `{"to","code","at"}` per message in a file. */
export class OutboxSmsSender extends SmsSender {
  constructor(private readonly path: string) {
    super();
  }
  async sendCode(to: string, code: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify({ to, code, at: new Date().toISOString() })}\n`, { mode: 0o600 });
  }
}

/** Posts `{to, text, code}` as JSON to an SMS gateway, with a bearer token when configured. */
export class HttpSmsSender extends SmsSender {
  constructor(
    private readonly url: string,
    private readonly token: string,
    /** How long a code lives (auth.otp.ttlSeconds), told in the text. */
    private readonly codeTtlSeconds: number,
  ) {
    super();
  }
  async sendCode(to: string, code: string): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ to, code, text: `Your verification code is ${code}. It expires in ${lifetime(this.codeTtlSeconds)}.` }),
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    if (!response?.ok) throw new DomainError('UPSTREAM_FAILED', 'The SMS gateway did not accept the message; try again shortly');
  }
}

export function createSmsSender(config: AppConfig): SmsSender {
  if (config.sms.driver === 'http') {
    if (!config.sms.http.url) throw new Error('sms.http.url (env SMS_HTTP_URL) is required when sms.driver is http');
    return new HttpSmsSender(config.sms.http.url, config.sms.http.token, config.auth.otp.ttlSeconds);
  }
  return new OutboxSmsSender(config.sms.outbox);
}

/** 300 → "5 minutes", 60 → "1 minute", 90 → "90 seconds". */
function lifetime(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} seconds`;
  const minutes = seconds / 60;
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

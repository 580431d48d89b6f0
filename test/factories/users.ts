import type { TestBackend } from '../support/backend.js';
import { call } from '../support/http.js';

let counter = 0;

/** A fresh E.164 phone number per call, unique within the run. */
export function newPhone(): string {
  counter += 1;
  return `+86138${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(5, '0')}`;
}

export interface SignedIn {
  phone: string;
  userId: string;
  roles: string[];
  accessToken: string;
  refreshToken: string;
}

/** Signs a phone in the way the companion app does: request a code, read it from the SMS outbox, log in. */
export async function signIn(backend: TestBackend, phone = newPhone()): Promise<SignedIn> {
  const sent = await call('POST', `${backend.provisioningUrl}/v1/auth/otp`, { body: { phone } });
  if (sent.status !== 202) throw new Error(`OTP request failed: ${sent.status} ${JSON.stringify(sent.body)}`);
  const code = await backend.lastCode(phone);
  const login = await call('POST', `${backend.provisioningUrl}/v1/auth/login`, { body: { phone, code } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return {
    phone,
    userId: login.body.user.id,
    roles: login.body.user.roles,
    accessToken: login.body.accessToken,
    refreshToken: login.body.refreshToken,
  };
}

import type { TestBackend } from '../support/backend.js';
import { call } from '../support/http.js';
import type { SignedIn } from './users.js';

export const OPTIONAL_PURPOSES = ['network_setup', 'fault_diagnostics', 'repair_contact', 'marketing', 'product_improvement'] as const;

/** Grants or withdraws one purpose the way the companion app does; fails loudly on anything but 200. */
export async function setConsent(backend: TestBackend, user: SignedIn, purpose: string, granted: boolean): Promise<void> {
  const answer = await call('PUT', `${backend.provisioningUrl}/v1/me/consents/${purpose}`, { token: user.accessToken, body: { granted } });
  if (answer.status !== 200) throw new Error(`consent ${purpose}=${granted} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Grants every optional purpose (service is accepted at first login). */
export async function grantAll(backend: TestBackend, user: SignedIn): Promise<void> {
  for (const purpose of OPTIONAL_PURPOSES) await setConsent(backend, user, purpose, true);
}

export async function setRestriction(backend: TestBackend, user: SignedIn, restricted: boolean): Promise<void> {
  const answer = await call('POST', `${backend.provisioningUrl}/v1/me/restriction`, { token: user.accessToken, body: { restricted } });
  if (answer.status !== 200) throw new Error(`restriction=${restricted} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
}

import { sql, type TestBackend } from '../support/backend.js';
import { setConsent } from './consents.js';
import { registerDevices, type RegisteredDevice } from './devices.js';
import { signIn, type SignedIn } from './users.js';

/**
 * Makes `ownerId` the owner of a registered device by writing device_bindings
 * directly: a shortcut for suites about what ownership allows (faults,
 * repairs), not about how it is obtained (pairing has its own suite).
 */
export function bindDevice(backend: TestBackend, sn: string, ownerId: string): Promise<void> {
  return sql(backend, 'INSERT INTO device_bindings (sn, owner_id) VALUES ($1, $2)', [sn, ownerId]).then(() => undefined);
}

/** Shares a bound device with a family member (device_members), the same shortcut. */
export function addMember(backend: TestBackend, sn: string, userId: string): Promise<void> {
  return sql(backend, 'INSERT INTO device_members (sn, user_id) VALUES ($1, $2)', [sn, userId]).then(() => undefined);
}

/** Ends the binding (as an unbind or a factory reset would). */
export function unbindDevice(backend: TestBackend, sn: string): Promise<void> {
  return sql(backend, 'DELETE FROM device_bindings WHERE sn = $1', [sn]).then(() => undefined);
}

/** A fresh account that owns a freshly registered device, having granted `consents` first. */
export async function ownerWithDevice(
  backend: TestBackend,
  adminToken: string,
  consents: string[] = [],
): Promise<{ owner: SignedIn; device: RegisteredDevice }> {
  const owner = await signIn(backend);
  for (const purpose of consents) await setConsent(backend, owner, purpose, true);
  const [device] = await registerDevices(backend, adminToken);
  await bindDevice(backend, device.sn, owner.userId);
  return { owner, device };
}

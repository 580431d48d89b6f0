import { createSecretKey, type KeyObject } from 'node:crypto';
import type { AppConfig } from '#libs/config';

/**
 * The HS256 key as a KeyObject, made at start-up, not per request. Given the secret as a string,
 * jsonwebtoken first tries to parse it as a public (or private) key on every
 * sign and verify, fails, and only then makes a secret key: about 7% of the
 * provisioning app's CPU under a steady stream of authenticated requests.
 */
export function jwtKey(config: AppConfig): KeyObject {
  return createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8'));
}

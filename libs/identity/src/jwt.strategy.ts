import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '#libs/config';
import type { AuthUser } from './auth-user.js';
import { jwtKey } from './jwt-key.js';
import { SessionRepository } from './session.repository.js';
import type { AccessClaims } from './tokens.service.js';

/**
 * Verifies the bearer JWT (signature, expiry, HS256 only), then checks that
 * its login is still live and the account not erased, so revocation and
 * deletion take effect at once rather than when the token expires.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly sessions: SessionRepository,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt hands the key to jsonwebtoken untouched; its types predate KeyObject.
      secretOrKey: jwtKey(config) as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(claims: AccessClaims): Promise<AuthUser | false> {
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return false;
    const roles = await this.sessions.liveRolesOf(claims.sid, claims.sub);
    if (!roles) return false;
    return { id: claims.sub, roles, sessionId: claims.sid };
  }
}

import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { InjectDataSource } from '@nestjs/typeorm';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DataSource } from 'typeorm';
import { AppConfig } from '#libs/config';
import type { AuthUser } from './auth-user.js';
import type { AccessClaims } from './tokens.service.js';
import type { Role } from './user.entity.js';

/**
 * Verifies the bearer JWT (signature, expiry, HS256 only), then checks that
 * its login is still live and the account not erased, so revocation and
 * deletion take effect at once rather than when the token expires.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.auth.jwtSecret,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(claims: AccessClaims): Promise<AuthUser | false> {
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return false;
    const rows = (await this.dataSource.query(
      `SELECT u.roles FROM login_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.deleted_at IS NULL`,
      [claims.sid, claims.sub],
    )) as Array<{ roles: Role[] }>;
    if (rows.length === 0) return false;
    return { id: claims.sub, roles: rows[0].roles, sessionId: claims.sid };
  }
}

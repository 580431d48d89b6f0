import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '#libs/platform';
import { ROLES_KEY, type AuthUser } from './auth-user.js';
import type { Role } from './user.entity.js';

/** The one bearer-token guard every HTTP app uses. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error || !user) throw new DomainError('UNAUTHORIZED', 'A valid access token is required');
    return user;
  }
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || !required.some((role) => user.roles.includes(role))) {
      throw new DomainError('FORBIDDEN', `This needs the ${required.join(' or ')} role`);
    }
    return true;
  }
}

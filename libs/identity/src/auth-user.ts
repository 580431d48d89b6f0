import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Role } from './user.entity.js';

/** Who is calling, as established by the JWT guard from the token and the live session. */
export interface AuthUser {
  id: string;
  roles: Role[];
  sessionId: string;
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthUser => context.switchToHttp().getRequest<{ user: AuthUser }>().user,
);

export const ROLES_KEY = 'roles';
/** Restricts a handler to callers holding any of these roles (after JwtAuthGuard). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

// Who people are: accounts, phone OTP and third-party sign-in, token rotation,
// roles and the bearer guard every HTTP app uses.
export { UserEntity, ROLES, type Role } from './user.entity.js';
export { OtpChallengeEntity } from './otp-challenge.entity.js';
export { LoginSessionEntity } from './login-session.entity.js';
export { RefreshTokenEntity } from './refresh-token.entity.js';
export { OAuthAccountEntity } from './oauth-account.entity.js';
export { AuthGuardModule, IdentityDirectoryModule, IdentityModule, IdentityPrivacyModule } from './identity.module.js';
export { IdentityDirectory, type TechnicianContact } from './identity-directory.js';
export { JwtAuthGuard, RolesGuard } from './guards.js';
export { CurrentUser, Roles, type AuthUser } from './auth-user.js';
export { OtpLoginService, type LoginResult } from './otp-login.service.js';
export { OAuthLoginService, OAUTH_PROVIDERS } from './oauth-login.service.js';
export { TokensService, type TokenPair } from './tokens.service.js';
export { UsersService, toProfileView, type ProfileView } from './users.service.js';
export { SmsSender, OutboxSmsSender, HttpSmsSender } from './sms-sender.js';
export { Clock } from './clock.js';
export { SignInHook } from './sign-in-hooks.js';
export { CreateTechnicianDto, GENDERS, LoginDto, OAuthLoginDto, RefreshDto, RequestOtpDto, UpdateProfileDto } from './dto.js';

import { LoginSessionEntity } from './login-session.entity.js';
import { OAuthAccountEntity } from './oauth-account.entity.js';
import { OtpChallengeEntity } from './otp-challenge.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { UserEntity } from './user.entity.js';
export const IDENTITY_ENTITIES = [UserEntity, OtpChallengeEntity, LoginSessionEntity, RefreshTokenEntity, OAuthAccountEntity];

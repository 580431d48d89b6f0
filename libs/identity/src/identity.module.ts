import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '#libs/config';
import { PrivacyModule } from '#libs/privacy';
import { Clock } from './clock.js';
import { JwtAuthGuard, RolesGuard } from './guards.js';
import { IdentityDirectory } from './identity-directory.js';
import { IdentityErasure, ProfileExport } from './identity-privacy.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OAuthAccountRepository } from './oauth-account.repository.js';
import { OAuthLoginService } from './oauth-login.service.js';
import { OtpChallengeRepository } from './otp-challenge.repository.js';
import { OtpLoginService } from './otp-login.service.js';
import { SessionRepository } from './session.repository.js';
import { SignInHooks } from './sign-in-hooks.js';
import { createSmsSender, SmsSender } from './sms-sender.js';
import { TokensService } from './tokens.service.js';
import { jwtKey } from './jwt-key.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

const jwtModule = JwtModule.registerAsync({
  inject: [AppConfig],
  useFactory: (config: AppConfig) => ({
    secret: jwtKey(config),
    signOptions: { algorithm: 'HS256' },
    verifyOptions: { algorithms: ['HS256'] },
  }),
});

const repositories = [UserRepository, SessionRepository, OtpChallengeRepository, OAuthAccountRepository];

/** Identity's tables and its door for other contexts (IdentityDirectory); needs DatabaseModule (global) with IDENTITY_ENTITIES. */
@Module({
  providers: [Clock, ...repositories, IdentityDirectory],
  exports: [Clock, ...repositories, IdentityDirectory],
})
export class IdentityDirectoryModule {}

/** What identity adds to the privacy rights: the `profile` export section and its erasure hook. */
@Module({
  imports: [IdentityDirectoryModule],
  providers: [IdentityErasure, ProfileExport],
})
export class IdentityPrivacyModule {}

/** Bearer-token authentication and roles, for every HTTP app. */
@Module({
  imports: [PassportModule, jwtModule, IdentityDirectoryModule],
  providers: [JwtStrategy, JwtAuthGuard, RolesGuard],
  exports: [JwtAuthGuard, RolesGuard, jwtModule],
})
export class AuthGuardModule {}

/** Sign-in (phone OTP, OAuth), token rotation and profiles, served by provisioning. */
@Module({
  imports: [AuthGuardModule, PrivacyModule, IdentityDirectoryModule, IdentityPrivacyModule, DiscoveryModule],
  providers: [
    SignInHooks,
    TokensService,
    UsersService,
    OtpLoginService,
    OAuthLoginService,
    { provide: SmsSender, inject: [AppConfig], useFactory: createSmsSender },
  ],
  exports: [IdentityDirectoryModule, TokensService, UsersService, OtpLoginService, OAuthLoginService, SmsSender],
})
export class IdentityModule {}

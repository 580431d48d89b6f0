import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '#libs/config';
import { PrivacyModule } from '#libs/privacy';
import { Clock } from './clock.js';
import { JwtAuthGuard, RolesGuard } from './guards.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OAuthLoginService } from './oauth-login.service.js';
import { OtpLoginService } from './otp-login.service.js';
import { createSmsSender, SmsSender } from './sms-sender.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

const jwtModule = JwtModule.registerAsync({
  inject: [AppConfig],
  useFactory: (config: AppConfig) => ({
    secret: config.auth.jwtSecret,
    signOptions: { algorithm: 'HS256' },
    verifyOptions: { algorithms: ['HS256'] },
  }),
});

/** Bearer-token authentication and roles, for every HTTP app. */
@Module({
  imports: [PassportModule, jwtModule],
  providers: [JwtStrategy, JwtAuthGuard, RolesGuard],
  exports: [JwtAuthGuard, RolesGuard, jwtModule],
})
export class AuthGuardModule {}

/** Sign-in (phone OTP, OAuth), token rotation and profiles, served by provisioning. */
@Module({
  imports: [AuthGuardModule, PrivacyModule],
  providers: [
    Clock,
    TokensService,
    UsersService,
    OtpLoginService,
    OAuthLoginService,
    { provide: SmsSender, inject: [AppConfig], useFactory: createSmsSender },
  ],
  exports: [Clock, TokensService, UsersService, OtpLoginService, OAuthLoginService, SmsSender],
})
export class IdentityModule {}

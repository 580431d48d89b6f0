import { Body, Controller, HttpCode, Ip, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  LoginDto,
  OAuthLoginDto,
  OAuthLoginService,
  OtpLoginService,
  RefreshDto,
  RequestOtpDto,
  TokensService,
  type LoginResult,
  type TokenPair,
} from '#libs/identity';
import { ApiErrors, RateLimit } from '#libs/platform';
import { CodeSentSchema, LoginSchema, TokenPairSchema } from './identity.schemas.js';

type LoginView = Pick<LoginResult, 'accessToken' | 'refreshToken' | 'user'>;

const toLoginView = ({ accessToken, refreshToken, user }: LoginResult): LoginView => ({ accessToken, refreshToken, user });

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly otpLogin: OtpLoginService,
    private readonly oauthLogin: OAuthLoginService,
    private readonly tokens: TokensService,
  ) {}

  @Post('otp')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a 6-digit sign-in code by SMS' })
  @ApiAcceptedResponse({ type: CodeSentSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['TOO_MANY_REQUESTS', 'too many codes for this phone or from this address in an hour'],
    ['UPSTREAM_FAILED', 'the SMS gateway failed'],
  )
  async requestCode(@Body() body: RequestOtpDto, @Ip() ip: string): Promise<{ status: 'sent' }> {
    await this.otpLogin.requestCode(body.phone, ip);
    return { status: 'sent' };
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with phone and code; a new phone creates the account' })
  @ApiOkResponse({ type: LoginSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['UNAUTHORIZED', 'wrong, expired or no code; or the account was deleted'],
    ['TOO_MANY_REQUESTS', 'too many wrong codes: request a new one'],
  )
  async login(@Body() body: LoginDto): Promise<LoginView> {
    return toLoginView(await this.otpLogin.login(body.phone, body.code));
  }

  @Post('refresh')
  @RateLimit('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade a refresh token for a new pair; the old one stops working' })
  @ApiOkResponse({ type: TokenPairSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['UNAUTHORIZED', 'not a valid refresh token, or one used before (the whole login then ends)'],
    ['TOO_MANY_REQUESTS', 'too many calls from this address (Retry-After)'],
  )
  async refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return (await this.tokens.refresh(body.refreshToken)).tokens;
  }

  @Post('oauth/:provider')
  @RateLimit('oauth')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with a wechat or qq authorization code' })
  @ApiOkResponse({ type: LoginSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['UNAUTHORIZED', 'the provider refused the code, or the account was deleted'],
    ['NOT_FOUND', 'unknown provider'],
    ['TOO_MANY_REQUESTS', 'too many calls from this address (Retry-After)'],
    ['UPSTREAM_FAILED', 'the provider failed'],
    ['UNAVAILABLE', 'this provider is not configured'],
  )
  async oauth(@Param('provider') provider: string, @Body() body: OAuthLoginDto): Promise<LoginView> {
    return toLoginView(await this.oauthLogin.login(provider, body.code));
  }
}

import { Body, Controller, HttpCode, Ip, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { RateLimit } from '#libs/platform';

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
  async requestCode(@Body() body: RequestOtpDto, @Ip() ip: string): Promise<{ status: 'sent' }> {
    await this.otpLogin.requestCode(body.phone, ip);
    return { status: 'sent' };
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with phone and code; a new phone creates the account' })
  async login(@Body() body: LoginDto): Promise<LoginView> {
    return toLoginView(await this.otpLogin.login(body.phone, body.code));
  }

  @Post('refresh')
  @RateLimit('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade a refresh token for a new pair; the old one stops working' })
  async refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return (await this.tokens.refresh(body.refreshToken)).tokens;
  }

  @Post('oauth/:provider')
  @RateLimit('oauth')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with a wechat or qq authorization code' })
  async oauth(@Param('provider') provider: string, @Body() body: OAuthLoginDto): Promise<LoginView> {
    return toLoginView(await this.oauthLogin.login(provider, body.code));
  }
}

import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, JwtAuthGuard, UpdateProfileDto, UsersService, type AuthUser, type ProfileView } from '#libs/identity';
import { ApiErrors } from '#libs/platform';
import { ProfileSchema } from './identity.schemas.js';

@ApiTags('me')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'My profile' })
  @ApiOkResponse({ type: ProfileSchema })
  @ApiErrors('UNAUTHORIZED', ['NOT_FOUND', 'the account was deleted'])
  profile(@CurrentUser() user: AuthUser): Promise<ProfileView> {
    return this.users.getProfile(user.id);
  }

  @Patch()
  @ApiOperation({ summary: 'Correct my profile; null clears a field' })
  @ApiOkResponse({ type: ProfileSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['NOT_FOUND', 'the account was deleted'])
  update(@CurrentUser() user: AuthUser, @Body() body: UpdateProfileDto): Promise<ProfileView> {
    return this.users.updateProfile(user.id, body);
  }
}

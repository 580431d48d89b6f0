import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, JwtAuthGuard, UpdateProfileDto, UsersService, type AuthUser, type ProfileView } from '#libs/identity';

@ApiTags('me')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'My profile' })
  profile(@CurrentUser() user: AuthUser): Promise<ProfileView> {
    return this.users.getProfile(user.id);
  }

  @Patch()
  @ApiOperation({ summary: 'Correct my profile; null clears a field' })
  update(@CurrentUser() user: AuthUser, @Body() body: UpdateProfileDto): Promise<ProfileView> {
    return this.users.updateProfile(user.id, body);
  }
}

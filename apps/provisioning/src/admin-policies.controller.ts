import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwtAuthGuard, Roles, RolesGuard } from '#libs/identity';
import { PolicyService, PublishPolicyDto, type PolicyVersionView } from '#libs/privacy';
import { ApiErrors } from '#libs/platform';
import { PolicyVersionSchema } from './privacy.schemas.js';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@Controller('v1/admin/policies')
export class AdminPoliciesController {
  constructor(private readonly policies: PolicyService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Announce a new policy version; effectiveAt must be at least 30 days away' })
  @ApiCreatedResponse({ type: PolicyVersionSchema })
  @ApiErrors('VALIDATION_FAILED', ['POLICY_NOTICE_TOO_SHORT', 'effectiveAt is under 30 days away'], 'UNAUTHORIZED', 'FORBIDDEN', [
    'CONFLICT',
    'this version exists',
  ])
  publish(@Body() body: PublishPolicyDto): Promise<PolicyVersionView> {
    return this.policies.publish({ version: body.version, effectiveAt: new Date(body.effectiveAt), summary: body.summary });
  }
}

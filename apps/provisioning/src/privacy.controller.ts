import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PolicyService, type PolicyOverview } from '#libs/privacy';
import { PolicyOverviewSchema } from './privacy.schemas.js';

@ApiTags('privacy')
@Controller('v1/privacy')
export class PrivacyController {
  constructor(private readonly policies: PolicyService) {}

  @Get('policy')
  @ApiOperation({ summary: 'The privacy policy version in force and the announced upcoming ones' })
  @ApiOkResponse({ type: PolicyOverviewSchema })
  policy(): Promise<PolicyOverview> {
    return this.policies.overview();
  }
}

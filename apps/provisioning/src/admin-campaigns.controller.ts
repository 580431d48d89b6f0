import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CancelCampaign,
  CreateCampaign,
  CreateCampaignDto,
  FindCampaigns,
  ListCampaignsQuery,
  ListJobsQuery,
  PauseCampaign,
  ResumeCampaign,
  toCampaignView,
  toJobView,
  type CampaignView,
  type CreatedCampaign,
  type JobView,
} from '#libs/firmware';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';
import { ApiErrors } from '#libs/platform';
import { CampaignSchema, CreatedCampaignSchema, JobSchema } from './firmware.schemas.js';

const campaignId = new ParseUUIDPipe();

@ApiTags('firmware')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
@Controller('v1/admin/campaigns')
export class AdminCampaignsController {
  constructor(
    private readonly createCampaign: CreateCampaign,
    private readonly findCampaigns: FindCampaigns,
    private readonly pauseCampaign: PauseCampaign,
    private readonly resumeCampaign: ResumeCampaign,
    private readonly cancelCampaign: CancelCampaign,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Roll an image out to its model's devices in steps; the first step is notified at once. Devices on the version, newer ones " +
      '(without allowDowngrade) and those in another campaign that is not over are left out, and counted in `skipped`',
  })
  @ApiCreatedResponse({ type: CreatedCampaignSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['NOT_FOUND', 'No image with this firmwareId'],
    ['CONFLICT', 'No device to update (the message says why, e.g. a downgrade without allowDowngrade)'],
  )
  create(@Body() body: CreateCampaignDto, @CurrentUser() admin: AuthUser): Promise<CreatedCampaign> {
    return this.createCampaign.execute({ ...body, createdBy: admin.id });
  }

  @Get()
  @ApiOperation({ summary: 'Campaigns, newest first, each with its jobs counted by state' })
  @ApiOkResponse({ type: [CampaignSchema] })
  @ApiErrors('VALIDATION_FAILED')
  async list(@Query() query: ListCampaignsQuery): Promise<CampaignView[]> {
    return (await this.findCampaigns.list(query.limit ?? 50, query.status)).map(toCampaignView);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One campaign: status, current step, and its jobs counted by state' })
  @ApiOkResponse({ type: CampaignSchema })
  @ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No campaign with this id'])
  async one(@Param('id', campaignId) id: string): Promise<CampaignView> {
    return toCampaignView(await this.findCampaigns.one(id));
  }

  @Get(':id/jobs')
  @ApiOperation({ summary: "The campaign's jobs by SN (filter by state or step; page with limit and after)" })
  @ApiOkResponse({ type: [JobSchema] })
  @ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No campaign with this id'])
  async jobs(@Param('id', campaignId) id: string, @Query() query: ListJobsQuery): Promise<JobView[]> {
    const jobs = await this.findCampaigns.jobs(id, { state: query.state, step: query.step, after: query.after, limit: query.limit ?? 100 });
    return jobs.map(toJobView);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'No further step starts; jobs already sent go on. Pausing a paused campaign changes nothing' })
  @ApiOkResponse({ type: CampaignSchema })
  @ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No campaign with this id'], ['CONFLICT', 'The campaign is completed or cancelled'])
  async pause(@Param('id', campaignId) id: string): Promise<CampaignView> {
    return toCampaignView(await this.pauseCampaign.execute(id));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Running again; if the current step has ended the next one starts now (even past the failure threshold)' })
  @ApiOkResponse({ type: CampaignSchema })
  @ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No campaign with this id'], ['CONFLICT', 'The campaign is completed or cancelled'])
  async resume(@Param('id', campaignId) id: string): Promise<CampaignView> {
    return toCampaignView(await this.resumeCampaign.execute(id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Stop for good: every job not yet started is withdrawn (its retained job cleared, its URL dead); started ones finish',
  })
  @ApiOkResponse({ type: CampaignSchema })
  @ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No campaign with this id'], ['CONFLICT', 'The campaign is completed'])
  async cancel(@Param('id', campaignId) id: string): Promise<CampaignView> {
    return toCampaignView(await this.cancelCampaign.execute(id));
  }
}

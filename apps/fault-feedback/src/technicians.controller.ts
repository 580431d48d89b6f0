import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '#libs/platform';
import { RepairsService, type TechnicianView } from '#libs/faults';
import { CreateTechnicianDto, CurrentUser, JwtAuthGuard, Roles, RolesGuard, UsersService, type AuthUser } from '#libs/identity';
import { TechnicianSchema } from './faults.schemas.js';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@Controller('v1/admin/technicians')
export class TechniciansController {
  constructor(
    private readonly users: UsersService,
    private readonly repairs: RepairsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Technicians, for the assign picker' })
  @ApiOkResponse({ type: [TechnicianSchema] })
  @ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
  list(@CurrentUser() admin: AuthUser): Promise<TechnicianView[]> {
    return this.repairs.technicians(admin.id);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Make a phone a technician; it signs in by OTP as usual' })
  @ApiCreatedResponse({ type: TechnicianSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN')
  async create(@Body() body: CreateTechnicianDto): Promise<{ id: string; phone: string; name: string }> {
    const user = await this.users.registerTechnician(body.phone, body.name);
    return { id: user.id, phone: body.phone, name: body.name };
  }
}

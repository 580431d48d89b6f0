import { Body, Controller, Get, HttpCode, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DefineModel, DefineModelDto, ModelDefinitionView, ReadModel, toModelView } from '#libs/devices';
import { JwtAuthGuard, Roles, RolesGuard } from '#libs/identity';
import { ApiErrors, ModelParam } from '#libs/platform';

/** Appliance models: what each model's data points are. */
@ApiTags('models')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Controller('v1')
export class ModelsController {
  constructor(
    private readonly defineModel: DefineModel,
    private readonly readModel: ReadModel,
  ) {}

  @Put('admin/models/:model')
  @Roles('admin')
  @HttpCode(200)
  @ApiBody({ type: DefineModelDto })
  @ApiOperation({ summary: "Define a model's data points, replacing its previous definition" })
  @ApiOkResponse({ type: ModelDefinitionView })
  @ApiErrors(
    ['VALIDATION_FAILED', 'a point is wrong (the message names it) or a field is unknown'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['FORBIDDEN', 'not an admin'],
  )
  async define(@Param('model', ModelParam) model: string, @Body() body: unknown): Promise<ModelDefinitionView> {
    // The body is read by readModelDefinition, which names the point in every error.
    return toModelView(await this.defineModel.execute(model, body));
  }

  @Get('models/:model')
  @ApiOperation({ summary: "A model's definition: its data points" })
  @ApiOkResponse({ type: ModelDefinitionView })
  @ApiErrors(
    ['VALIDATION_FAILED', 'not a model name'],
    ['NOT_FOUND', 'no definition for this model'],
    ['UNAUTHORIZED', 'no valid access token'],
  )
  async read(@Param('model', ModelParam) model: string): Promise<ModelDefinitionView> {
    return toModelView(await this.readModel.execute(model));
  }
}

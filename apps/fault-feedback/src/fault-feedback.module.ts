import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { DatabaseModule, healthChecksProvider } from '#libs/database';
import { FAULTS_ENTITIES, FaultsModule } from '#libs/faults';
import { IDENTITY_ENTITIES, IdentityModule } from '#libs/identity';
import { HealthController, MqttLink } from '#libs/platform';
import { TelemetryVisitsModule } from '#libs/telemetry';
import { AdminRepairsController } from './admin-repairs.controller.js';
import { ConsoleController } from './console.controller.js';
import { DeviceFaultsController } from './device-faults.controller.js';
import { FaultReportsHandler } from './fault-reports.handler.js';
import { RepairsController } from './repairs.controller.js';
import { TechVisitsController } from './tech-visits.controller.js';
import { TechniciansController } from './technicians.controller.js';
import { VisitTelemetryController } from './visit-telemetry.controller.js';

@Module({})
export class FaultFeedbackModule {
  static forRoot(config: AppConfig, databaseUrl: string, mqtt: MqttLink): DynamicModule {
    return {
      module: FaultFeedbackModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, [...IDENTITY_ENTITIES, ...FAULTS_ENTITIES], config.database.logQueries),
        IdentityModule,
        FaultsModule,
        TelemetryVisitsModule,
      ],
      controllers: [
        HealthController,
        TechniciansController,
        DeviceFaultsController,
        RepairsController,
        AdminRepairsController,
        TechVisitsController,
        VisitTelemetryController,
        FaultReportsHandler,
        ConsoleController,
      ],
      providers: [{ provide: MqttLink, useValue: mqtt }, healthChecksProvider(mqtt.health)],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { DatabaseModule, healthChecksProvider } from '#libs/database';
import { IDENTITY_ENTITIES, IdentityModule } from '#libs/identity';
import { HealthController, MqttLink } from '#libs/platform';
import { ConsoleController } from './console.controller.js';
import { TechniciansController } from './technicians.controller.js';

@Module({})
export class FaultFeedbackModule {
  static forRoot(config: AppConfig, databaseUrl: string, mqtt: MqttLink): DynamicModule {
    return {
      module: FaultFeedbackModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, IDENTITY_ENTITIES, config.database.logQueries),
        IdentityModule,
      ],
      controllers: [HealthController, TechniciansController, ConsoleController],
      providers: [
        { provide: MqttLink, useValue: mqtt },
        healthChecksProvider(mqtt.health),
      ],
    };
  }
}

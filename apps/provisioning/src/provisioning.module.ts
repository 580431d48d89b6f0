import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { DatabaseModule, healthChecksProvider } from '#libs/database';
import { IDENTITY_ENTITIES, IdentityModule } from '#libs/identity';
import { HealthController, MqttLink } from '#libs/platform';
import { AuthController } from './auth.controller.js';
import { MeController } from './me.controller.js';

@Module({})
export class ProvisioningModule {
  static forRoot(config: AppConfig, databaseUrl: string, mqtt: MqttLink): DynamicModule {
    return {
      module: ProvisioningModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, IDENTITY_ENTITIES, config.database.logQueries),
        IdentityModule,
      ],
      controllers: [HealthController, AuthController, MeController],
      providers: [
        { provide: MqttLink, useValue: mqtt },
        healthChecksProvider(mqtt.health),
      ],
    };
  }
}

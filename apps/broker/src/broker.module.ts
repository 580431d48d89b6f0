import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { DatabaseModule, healthChecksProvider } from '#libs/database';
import { HealthController, type HealthCheck } from '#libs/platform';

@Module({})
export class BrokerHttpModule {
  static forRoot(config: AppConfig, databaseUrl: string, mqttListener: HealthCheck): DynamicModule {
    return {
      module: BrokerHttpModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(databaseUrl, [], config.database.logQueries)],
      controllers: [HealthController],
      providers: [
        healthChecksProvider(mqttListener),
      ],
    };
  }
}

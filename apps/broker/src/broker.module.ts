import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ConfigModule, type AppConfig } from '#libs/config';
import { databaseHealthCheck } from '#libs/database';
import { HEALTH_CHECKS, HealthController, type HealthCheck } from '#libs/platform';
import { BrokerMetrics } from './broker-metrics.js';
import { MetricsController } from './metrics.controller.js';

/** The broker's HTTP side: /health (database, MQTT listener, event bus when configured) and /metrics. It shares the broker's database pool. */
@Module({})
export class BrokerHttpModule {
  static forRoot(config: AppConfig, dataSource: DataSource, links: HealthCheck[], metrics: BrokerMetrics): DynamicModule {
    return {
      module: BrokerHttpModule,
      imports: [ConfigModule.forRoot(config)],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: HEALTH_CHECKS, useValue: [databaseHealthCheck(dataSource), ...links] },
        { provide: BrokerMetrics, useValue: metrics },
      ],
    };
  }
}

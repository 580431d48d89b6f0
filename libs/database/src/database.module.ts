import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, type EntityList } from './data-source.js';
import { HEALTH_CHECKS, type HealthCheck } from '#libs/platform';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Provider } from '@nestjs/common';

/** TypeORM for an app, on the URL the launcher resolved (embedded or DATABASE_URL). */
@Module({})
export class DatabaseModule {
  static forRoot(url: string, entities: EntityList, logQueries = false): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(url, entities, logQueries), autoLoadEntities: false })],
    };
  }
}

export function databaseHealthCheck(dataSource: DataSource): HealthCheck {
  return {
    name: 'database',
    isUp: async () => {
      await dataSource.query('SELECT 1');
      return true;
    },
  };
}

/** The app's /health checks: its database plus whatever links it names (MQTT). */
export function healthChecksProvider(...links: HealthCheck[]): Provider {
  return {
    provide: HEALTH_CHECKS,
    inject: [getDataSourceToken()],
    useFactory: (dataSource: DataSource) => [databaseHealthCheck(dataSource), ...links],
  };
}

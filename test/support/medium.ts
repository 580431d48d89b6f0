import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConfigModule, loadConfig, type AppConfig } from '#libs/config';
import { DatabaseModule, runMigrations, type EntityList } from '#libs/database';
import { CredentialChangeNotifier, DEVICES_ENTITIES, DevicesModule } from '#libs/devices';
import { IDENTITY_ENTITIES } from '#libs/identity';
import { ConsentService, PrivacyModule } from '#libs/privacy';
import { createTestDatabase } from './backend.js';

/** What a medium spec works with: the services of its modules on a database of its own, migrated as in production. */
export interface MediumWorld {
  app: INestApplicationContext;
  config: AppConfig;
  dataSource: DataSource;
  /** One query on the spec's database, for setup and for what no service shows. */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

@Module({})
class MediumModule {}

/**
 * The medium tier: one service (or a few) from the real Nest modules, on a
 * real PostgreSQL with the real migrations, without HTTP, MQTT or the other
 * apps. One database per spec file (call it in beforeAll, close in afterAll).
 */
export async function startMedium(options: {
  imports: Array<Type | DynamicModule>;
  entities: EntityList;
  config?: Record<string, unknown>;
}): Promise<MediumWorld> {
  const database = await createTestDatabase();
  try {
    await runMigrations(database.url);
    const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { database: { url: database.url }, ...options.config } });
    const app = await NestFactory.createApplicationContext(
      {
        module: MediumModule,
        imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(database.url, options.entities), ...options.imports],
      },
      { logger: false, abortOnError: false },
    );
    const dataSource = app.get<DataSource>(getDataSourceToken());
    return {
      app,
      config,
      dataSource,
      sql: async <T>(text: string, values: unknown[] = []) => (await dataSource.query(text, values)) as T[],
      async close() {
        await app.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** A user row as sign-up leaves it (service accepted under the policy in force), written directly: setup, not the subject of the spec. */
export async function insertUser(world: MediumWorld, options: { roles?: string[]; phone?: string | null } = {}): Promise<string> {
  const [{ id }] = await world.sql<{ id: string }>('INSERT INTO users (phone, roles) VALUES ($1, $2) RETURNING id', [
    options.phone ?? null,
    options.roles ?? ['user'],
  ]);
  return id;
}

/** The devices context on the medium tier (identity's and devices' tables, privacy's services), as the device specs use it. */
export function startDevicesMedium(): Promise<MediumWorld> {
  return startMedium({
    imports: [PrivacyModule, DevicesModule.forRoot({ provide: CredentialChangeNotifier, useValue: { notify: async () => undefined } })],
    entities: [...IDENTITY_ENTITIES, ...DEVICES_ENTITIES],
  });
}

/** A user who signed up: the row, and the service accepted at sign-in as the identity context records it. */
export async function insertSignedUpUser(world: MediumWorld): Promise<string> {
  const id = await insertUser(world);
  await world.app.get(ConsentService).acceptService(undefined, id, 'login');
  return id;
}

import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import fc from 'fast-check';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm';
import { ConfigModule, loadConfig, type AppConfig } from '#libs/config';
import { DatabaseModule, runMigrations } from '#libs/database';
import {
  ConfirmPairing,
  CredentialChangeNotifier,
  DefineModel,
  DesiredStateNotifier,
  DesiredStateNotifierModule,
  DeviceControlModule,
  DeviceOwnership,
  DeviceRegistry,
  DevicesModule,
  ReadDeviceState,
  ReadStateHistory,
  ReceiveStateReport,
  SetDesiredState,
  StartPairing,
} from '#libs/devices';
import { FaultIngestion, FaultsModule } from '#libs/faults';
import { IdentityModule, OtpLoginService, SmsSender, UsersService } from '#libs/identity';
import {
  ConsentService,
  DataSubject,
  EraseAccount,
  ExportService,
  LawfulBasis,
  PersonalData,
  PersonalDataWriter,
  PrivacyCatalog,
  PrivacyModule,
  RetentionService,
} from '#libs/privacy';
import { TelemetryIngestion, TelemetryModule } from '#libs/telemetry';
import { PROVISIONING_ENTITIES } from '../../apps/provisioning/src/privacy-entities.js';
import { createTestDatabase } from '../support/backend.js';
import type { ModelState } from './model.js';
import { newStateModel, PROOF_MODEL, PROOF_MODEL_DEFINITION } from './state-model.js';
import { newTelemetryModel } from './telemetry-model.js';

/**
 * The world a sequence runs in: the real services (Nest DI, real PostgreSQL,
 * the same use-cases the HTTP and MQTT edges call), the model the steps keep,
 * and the pools of people, devices, pairings and reports the current
 * sequence made, which steps pick from.
 *
 * `proof_notes` is a test-only table whose columns cover every optional
 * purpose (users' columns are all `service`).
 */
@Entity('proof_notes')
export class ProofNoteEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @DataSubject() @Column({ name: 'subject_id', type: 'uuid', nullable: true }) subjectId!: string | null;
  @PersonalData({ category: 'device_sn', purposes: ['service', 'fault_diagnostics'], retainFrom: 'createdAt' })
  @Column({ type: 'varchar', nullable: true })
  serial!: string | null;
  @PersonalData({ category: 'wifi_name', purposes: ['network_setup'], retainFrom: 'endedAt' })
  @Column({ name: 'wifi_name', type: 'varchar', nullable: true })
  wifiName!: string | null;
  @PersonalData({ category: 'fault_diagnostics', purposes: ['fault_diagnostics'], retainFrom: 'createdAt' })
  @Column({ type: 'text', nullable: true })
  diagnostics!: string | null;
  @PersonalData({ category: 'repair_contact', purposes: ['repair_contact'], retainFrom: 'createdAt' })
  @Column({ type: 'varchar', nullable: true })
  contact!: string | null;
  @PersonalData({ category: 'marketing_profile', purposes: ['marketing'] })
  @Column({ name: 'marketing_profile', type: 'varchar', nullable: true })
  marketingProfile!: string | null;
  @PersonalData({ category: 'feedback', purposes: ['product_improvement'], retainFrom: 'createdAt' })
  @Column({ type: 'text', nullable: true })
  feedback!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
}

export const NOTE_FIELDS = ['serial', 'wifiName', 'diagnostics', 'contact', 'marketingProfile', 'feedback'] as const;
export type NoteValues = Partial<Record<(typeof NOTE_FIELDS)[number], string | null>>;

export interface World extends ModelState {
  app: INestApplicationContext;
  config: AppConfig;
  dataSource: DataSource;
  catalog: PrivacyCatalog;
  consents: ConsentService;
  writer: PersonalDataWriter;
  basis: LawfulBasis;
  users: UsersService;
  otp: OtpLoginService;
  retention: RetentionService;
  registry: DeviceRegistry;
  startPairing: StartPairing;
  confirmPairing: ConfirmPairing;
  eraseAccount: EraseAccount;
  ownership: DeviceOwnership;
  ingestion: FaultIngestion;
  telemetryIngestion: TelemetryIngestion;
  setDesired: SetDesiredState;
  receiveStateReport: ReceiveStateReport;
  readState: ReadDeviceState;
  readHistory: ReadStateHistory;
  exports: ExportService;
  /** What each device would find retained on its desired topic. */
  retained: Map<string, { version: number; values: Record<string, unknown> }>;
  /** Every table of the database, for the scans for generated values. */
  tables: string[];
  /** Each person's phone, to share devices with them. */
  phones: Map<string, string>;
  /** The last few telemetry messages each device sent, to send one again. */
  telemetryMessages: Map<string, Array<Array<{ point: string; at: string; value: number | string }>>>;
  codes: Map<string, string>;
  /** Subjects signed up in the current sequence; steps pick among them. */
  run: string[];
  /** Devices registered, pairings started and reports sent in the current sequence; steps pick among them. */
  runDevices: string[];
  runPairings: string[];
  runReports: string[];
  /** Last instant handed to a use-case: times only move forward, so "newest" is never a tie. */
  lastNow: number;
}

export interface Step {
  kind: string;
  apply(world: World): Promise<void>;
}

/** A step that prints as `kind {params}` in a counterexample. */
export function step(kind: string, params: object, apply: (world: World) => Promise<void>): Step {
  return { kind, apply, [fc.toStringMethod]: () => `${kind} ${JSON.stringify(params)}` } as Step;
}

export const counters = { phone: 0, sn: 0, value: 0 };

/** The `index`th person of the current sequence (any index picks someone), or undefined before the first sign-up. */
export const pick = (world: World, index: number): string | undefined =>
  world.run.length ? world.run[index % world.run.length] : undefined;

/** An instant for a use-case; never the same twice, never going back. */
export function tick(world: World): Date {
  world.lastNow = Math.max(Date.now(), world.lastNow + 1);
  return new Date(world.lastNow);
}

export function pickFrom<T>(pool: readonly T[], index: number): T | undefined {
  return pool.length ? pool[index % pool.length] : undefined;
}

@Module({})
class ProofModule {}

/** The retained desired message of each device, as a broker would keep it. */
class RetainedInMemory extends DesiredStateNotifier {
  readonly retained = new Map<string, { version: number; values: Record<string, unknown> }>();
  async publish(sn: string, payload: { version: number; values: Record<string, unknown> }): Promise<void> {
    this.retained.set(sn, { version: payload.version, values: payload.values });
  }
  async clear(sn: string): Promise<void> {
    this.retained.delete(sn);
  }
}

/** Brokers hear of credential changes over MQTT; no broker runs here, and registration changes no credentials anyway. */
class NoBrokerToTell extends CredentialChangeNotifier {
  async notify(): Promise<void> {}
}

/** Boots the services on a fresh migrated database, with SMS codes caught in memory. */
export async function createWorld(): Promise<{ world: World; drop(): Promise<void> }> {
  const database = await createTestDatabase();
  await runMigrations(database.url);
  const retained = new RetainedInMemory();
  const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { database: { url: database.url } } });
  const app = await NestFactory.createApplicationContext(
    {
      module: ProofModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(database.url, [...PROVISIONING_ENTITIES, ProofNoteEntity]),
        IdentityModule,
        PrivacyModule,
        // The apps' own modules: provisioning's device use-cases and telemetry, fault-feedback's ingestion.
        DevicesModule.forRoot({ provide: CredentialChangeNotifier, useValue: new NoBrokerToTell() }),
        FaultsModule,
        TelemetryModule,
        DesiredStateNotifierModule.forRoot({ provide: DesiredStateNotifier, useValue: retained }),
        DeviceControlModule,
      ],
    },
    { logger: false },
  );
  const dataSource = app.get<DataSource>(getDataSourceToken());
  await dataSource.query(`
    CREATE TABLE proof_notes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subject_id uuid,
      serial varchar, wifi_name varchar, diagnostics text, contact varchar, marketing_profile varchar, feedback text,
      created_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz
    )`);
  // The proof's appliances: PX1's points and two string points (state-model.ts).
  await app.get(DefineModel).execute(PROOF_MODEL, PROOF_MODEL_DEFINITION);
  const tables = (
    (await dataSource.query(
      // Partitioned tables once, through their parent (partitions come and go with retention).
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    )) as Array<{ name: string }>
  ).map((row) => row.name);
  const codes = new Map<string, string>();
  const sms = app.get(SmsSender);
  sms.sendCode = async (to: string, code: string) => {
    codes.set(to, code);
  };
  const world: World = {
    app,
    config,
    dataSource,
    catalog: app.get(PrivacyCatalog),
    consents: app.get(ConsentService),
    writer: app.get(PersonalDataWriter),
    basis: app.get(LawfulBasis),
    users: app.get(UsersService),
    otp: app.get(OtpLoginService),
    retention: app.get(RetentionService),
    registry: app.get(DeviceRegistry),
    startPairing: app.get(StartPairing),
    confirmPairing: app.get(ConfirmPairing),
    eraseAccount: app.get(EraseAccount),
    ownership: app.get(DeviceOwnership),
    ingestion: app.get(FaultIngestion),
    telemetryIngestion: app.get(TelemetryIngestion),
    telemetryMessages: new Map(),
    setDesired: app.get(SetDesiredState),
    receiveStateReport: app.get(ReceiveStateReport),
    readState: app.get(ReadDeviceState),
    readHistory: app.get(ReadStateHistory),
    exports: app.get(ExportService),
    retained: retained.retained,
    tables,
    phones: new Map(),
    codes,
    model: new Map(),
    run: [],
    runDevices: [],
    runPairings: [],
    runReports: [],
    devices: new Map(),
    owners: new Map(),
    pairingModels: new Map(),
    reports: new Map(),
    history: [],
    claimFailures: new Map(),
    telemetry: newTelemetryModel(),
    state: newStateModel(),
    lastNow: 0,
  };
  return { world, drop: () => database.drop() };
}

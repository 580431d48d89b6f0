import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import fc from 'fast-check';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ConfigModule, loadConfig } from '#libs/config';
import { DatabaseModule, runMigrations } from '#libs/database';
import { IdentityModule, OtpLoginService, SmsSender, UserEntity, UsersService } from '#libs/identity';
import { DomainError } from '#libs/platform';
import {
  ConsentService,
  DataSubject,
  LawfulBasis,
  PersonalData,
  PersonalDataBypassError,
  PersonalDataWriter,
  PrivacyCatalog,
  PrivacyModule,
  PURPOSES,
  RetentionService,
  type Purpose,
} from '#libs/privacy';
import { PROVISIONING_ENTITIES } from '../apps/provisioning/src/privacy-entities.js';
import { createTestDatabase } from './support/backend.js';

/**
 * The proof: random sequences of sign-ups, consent grants and withdrawals,
 * restrictions, personal-data writes, retention runs and account erasures go
 * through the real services (Nest DI, real PostgreSQL); after each sequence
 * every tagged column of every registered table is scanned, and no value may
 * exist whose data subject lacks a live basis for at least one of its
 * purposes. The model below states the rule independently of the code.
 *
 * `proof_notes` is a test-only table whose columns cover every optional
 * purpose (users' columns are all `service`). Contexts that add tagged
 * tables (devices, pairings, faults, repairs) append their generators to
 * STEP_GENERATORS; the scan covers their columns by itself.
 */
@Entity('proof_notes')
class ProofNoteEntity {
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

const NOTE_FIELDS = ['serial', 'wifiName', 'diagnostics', 'contact', 'marketingProfile', 'feedback'] as const;
type NoteValues = Partial<Record<(typeof NOTE_FIELDS)[number], string | null>>;

interface SubjectModel {
  exists: boolean;
  granted: Set<Purpose>;
  restricted: boolean;
}

/** The rule, stated independently of libs/privacy. */
function modelLive(model: SubjectModel | undefined, purpose: Purpose): boolean {
  if (!model?.exists) return false;
  if (purpose === 'service') return true;
  return model.granted.has(purpose) && !model.restricted;
}

interface World {
  app: INestApplicationContext;
  dataSource: DataSource;
  catalog: PrivacyCatalog;
  consents: ConsentService;
  writer: PersonalDataWriter;
  basis: LawfulBasis;
  users: UsersService;
  otp: OtpLoginService;
  retention: RetentionService;
  codes: Map<string, string>;
  model: Map<string, SubjectModel>;
  /** Subjects signed up in the current sequence; steps pick among them. */
  run: string[];
}

interface Step {
  kind: string;
  apply(world: World): Promise<void>;
}

/** A step that prints as `kind {params}` in a counterexample. */
function step(kind: string, params: object, apply: (world: World) => Promise<void>): Step {
  return { kind, apply, [fc.toStringMethod]: () => `${kind} ${JSON.stringify(params)}` } as Step;
}

let phoneCounter = 0;
const pick = (world: World, index: number): string | undefined => (world.run.length ? world.run[index % world.run.length] : undefined);

const signUpStep: Step = step('signUp', {}, async (world) => {
  phoneCounter += 1;
  const phone = `+8615${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(6, '0')}`;
  await world.otp.requestCode(phone, `10.${(phoneCounter >> 16) & 255}.${(phoneCounter >> 8) & 255}.${phoneCounter & 255}`);
  const login = await world.otp.login(phone, world.codes.get(phone)!);
  world.model.set(login.user.id, { exists: true, granted: new Set(['service']), restricted: false });
  world.run.push(login.user.id);
});
const signUp: fc.Arbitrary<Step> = fc.constant(signUpStep);

const consent: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), purpose: fc.constantFrom(...PURPOSES), granted: fc.boolean() }).map(({ who, purpose, granted }) =>
  step(granted ? 'grant' : 'withdraw', { who, purpose }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    const model = world.model.get(subject)!;
    if (!model.exists) {
      await expect(world.consents.set(subject, purpose, granted)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      return;
    }
    if (purpose === 'service' && !granted) {
      await expect(world.consents.set(subject, purpose, granted)).rejects.toMatchObject({ code: 'CONFLICT' });
      return;
    }
    await world.consents.set(subject, purpose, granted);
    granted ? model.granted.add(purpose) : model.granted.delete(purpose);
  }),
);

const restrict: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), restricted: fc.boolean() }).map(({ who, restricted }) =>
  step('restrict', { who, restricted }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    const model = world.model.get(subject)!;
    if (!model.exists) {
      await expect(world.consents.restrict(subject, restricted)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      return;
    }
    await world.consents.restrict(subject, restricted);
    model.restricted = restricted;
  }),
);

const text = fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: null });
const noteValues: fc.Arbitrary<NoteValues> = fc.record(
  Object.fromEntries(NOTE_FIELDS.map((field) => [field, text])) as Record<(typeof NOTE_FIELDS)[number], typeof text>,
  { requiredKeys: [] },
);

/** Checks that the writer stored exactly what the model allows: values kept when live, dropped when not. */
async function expectStored(world: World, subject: string, id: string, values: NoteValues): Promise<void> {
  const row = await world.dataSource.getRepository(ProofNoteEntity).findOneByOrFail({ id });
  const table = world.catalog.tableOf(ProofNoteEntity)!;
  for (const field of NOTE_FIELDS) {
    if (values[field] === undefined) continue;
    const column = table.columns.find((candidate) => candidate.property === field)!;
    const live = column.purposes.some((purpose) => modelLive(world.model.get(subject), purpose));
    expect({ field, stored: row[field] }).toEqual({ field, stored: live ? values[field] : null });
  }
}

const writeNote: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), values: noteValues }).map(({ who, values }) =>
  step('writeNote', { who, values }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    await world.writer.insert(ProofNoteEntity, subject, values);
    const [{ id }] = (await world.dataSource.query('SELECT id FROM proof_notes WHERE subject_id = $1 ORDER BY created_at DESC, id LIMIT 1', [subject])) as Array<{ id: string }>;
    await expectStored(world, subject, id, values);
  }),
);

const updateNotes: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), values: noteValues }).map(({ who, values }) =>
  step('updateNotes', { who, values }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    await world.writer.update(ProofNoteEntity, subject, {}, values);
  }),
);

const writeProfile: fc.Arbitrary<Step> = fc
  .record({ who: fc.nat(), nickname: text, name: text, location: text, gender: fc.constantFrom('female', 'male', null) })
  .map(({ who, ...changes }) =>
    step('writeProfile', { who, changes }, async (world) => {
      const subject = pick(world, who);
      if (!subject) return;
      if (!world.model.get(subject)!.exists) {
        await expect(world.users.updateProfile(subject, changes)).rejects.toBeInstanceOf(DomainError);
        return;
      }
      const profile = await world.users.updateProfile(subject, changes);
      expect(profile).toMatchObject(changes);
    }),
  );

const endPairing: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), hoursAgo: fc.integer({ min: 0, max: 48 }) }).map(({ who, hoursAgo }) =>
  step('endPairing', { who, hoursAgo }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    await world.dataSource.query(`UPDATE proof_notes SET ended_at = now() - make_interval(hours => $2) WHERE subject_id = $1 AND ended_at IS NULL`, [subject, hoursAgo]);
  }),
);

const retention: fc.Arbitrary<Step> = fc.integer({ min: 0, max: 24 * 800 }).map((hoursAhead) =>
  step('retention', { hoursAhead }, async (world) => {
    await world.retention.apply(new Date(Date.now() + hoursAhead * 3600_000));
  }),
);

const eraseAccount: fc.Arbitrary<Step> = fc.nat().map((who) =>
  step('eraseAccount', { who }, async (world) => {
    const subject = pick(world, who);
    if (!subject || !world.model.get(subject)!.exists) return;
    await world.consents.eraseAccount(subject);
    world.model.set(subject, { exists: false, granted: new Set(), restricted: false });
  }),
);

/** Weighted generators of one step. Later contexts add theirs (device reports, pairings, repairs) here. */
const STEP_GENERATORS: Array<{ weight: number; arbitrary: fc.Arbitrary<Step> }> = [
  { weight: 2, arbitrary: signUp },
  { weight: 6, arbitrary: consent },
  { weight: 2, arbitrary: restrict },
  { weight: 5, arbitrary: writeNote },
  { weight: 2, arbitrary: updateNotes },
  { weight: 2, arbitrary: writeProfile },
  { weight: 1, arbitrary: endPairing },
  { weight: 1, arbitrary: retention },
  { weight: 1, arbitrary: eraseAccount },
];

/** Every non-null tagged value in the database whose subject has no live purpose for it, per the model. */
async function violations(world: World): Promise<string[]> {
  const found: string[] = [];
  for (const table of world.catalog.tables) {
    const columns = table.columns.map((column) => `"${column.column}"`).join(', ');
    const rows = (await world.dataSource.query(`SELECT "${table.subject.column}" AS subject, ${columns} FROM "${table.table}"`)) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const subject = row.subject as string | null;
      for (const column of table.columns) {
        if (row[column.column] === null) continue;
        stats.valuesScanned += 1;
        const model = subject ? world.model.get(subject) : undefined;
        if (!column.purposes.some((purpose) => modelLive(model, purpose))) {
          found.push(`${table.table}.${column.column} of ${subject ?? 'nobody'} holds a value without a live purpose (${column.purposes.join(', ')})`);
        }
      }
    }
  }
  return found;
}

@Module({})
class ProofModule {}

const stats = { sequences: 0, steps: 0, byKind: new Map<string, number>(), valuesScanned: 0 };

describe('proof: no personal value outlives its purposes', () => {
  let world: World;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  

  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations(database.url);
    const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { database: { url: database.url } } });
    const app = await NestFactory.createApplicationContext(
      {
        module: ProofModule,
        imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(database.url, [...PROVISIONING_ENTITIES, ProofNoteEntity]), IdentityModule, PrivacyModule],
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
    const codes = new Map<string, string>();
    const sms = app.get(SmsSender);
    sms.sendCode = async (to: string, code: string) => {
      codes.set(to, code);
    };
    world = {
      app,
      dataSource,
      catalog: app.get(PrivacyCatalog),
      consents: app.get(ConsentService),
      writer: app.get(PersonalDataWriter),
      basis: app.get(LawfulBasis),
      users: app.get(UsersService),
      otp: app.get(OtpLoginService),
      retention: app.get(RetentionService),
      codes,
      model: new Map(),
      run: [],
    };
  });

  afterAll(async () => {
    await world?.app.close();
    await database?.drop();
    const kinds = [...stats.byKind.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ');
    process.stdout.write(
      `\nprivacy proof: ${stats.sequences} sequences, ${stats.steps} steps (${kinds}); ` +
        `${stats.valuesScanned} stored personal values checked by the scans, ${world?.model.size ?? 0} people\n`,
    );
  });

  it('the registry covers the test table and users', () => {
    expect(world.catalog.tables.map((table) => table.table)).toEqual(expect.arrayContaining(['users', 'proof_notes']));
  });

  it('refuses a tagged value written around the writer', async () => {
    await signUpStep.apply(world);
    const subject = world.run[world.run.length - 1];
    await expect(world.dataSource.getRepository(ProofNoteEntity).insert({ subjectId: subject, contact: '+8613800000000' })).rejects.toThrow(
      'proof_notes.contact is personal data: write it with PersonalDataWriter',
    );
    await expect(world.dataSource.manager.update(UserEntity, { id: subject }, { name: 'Li Lei' })).rejects.toBeInstanceOf(PersonalDataBypassError);
    // Untagged columns and nulls are not personal writes.
    await world.dataSource.getRepository(ProofNoteEntity).insert({ subjectId: subject, contact: null });
  });

  it('erases pairing network info 24 hours after the pairing ends, not before, and keeps the rest', async () => {
    await signUpStep.apply(world);
    const subject = world.run[world.run.length - 1];
    await world.consents.set(subject, 'network_setup', true);
    await world.consents.set(subject, 'marketing', true);
    world.model.get(subject)!.granted.add('network_setup').add('marketing');
    await world.writer.insert(ProofNoteEntity, subject, { wifiName: 'home-5G', marketingProfile: 'water' });
    const now = new Date();
    const endedAt = (hoursAgo: number) =>
      world.dataSource.query('UPDATE proof_notes SET ended_at = $2 WHERE subject_id = $1', [subject, new Date(now.getTime() - hoursAgo * 3600_000)]);
    const stored = async () =>
      ((await world.dataSource.query('SELECT wifi_name, marketing_profile FROM proof_notes WHERE subject_id = $1', [subject])) as Array<Record<string, unknown>>)[0];
    await world.retention.apply(now);
    expect(await stored()).toEqual({ wifi_name: 'home-5G', marketing_profile: 'water' }); // pairing not ended: kept
    await endedAt(23);
    await world.retention.apply(now);
    expect(await stored()).toEqual({ wifi_name: 'home-5G', marketing_profile: 'water' });
    await endedAt(25);
    await world.retention.apply(now);
    expect(await stored()).toEqual({ wifi_name: null, marketing_profile: 'water' });
  });

  it('holds for random sequences of consents, restrictions, writes, retention and erasures', async () => {
    const step = fc.oneof(...STEP_GENERATORS);
    const numRuns = Number(process.env.PRIVACY_PROOF_RUNS ?? 200);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 24 }), async (steps) => {
        world.run = [];
        stats.sequences += 1;
        for (const next of [signUpStep, ...steps]) {
          await next.apply(world);
          stats.steps += 1;
          stats.byKind.set(next.kind, (stats.byKind.get(next.kind) ?? 0) + 1);
        }
        // The code's view of each person agrees with the model...
        for (const subject of world.run) {
          const live = await world.basis.livePurposes(subject);
          expect({ subject, live: [...live].sort() }).toEqual({ subject, live: PURPOSES.filter((purpose) => modelLive(world.model.get(subject), purpose)).sort() });
        }
        // ...and nothing in the database outlives its purposes.
        expect(await violations(world)).toEqual([]);
      }),
      { numRuns, endOnFailure: true },
    );
    expect(stats.sequences).toBeGreaterThanOrEqual(numRuns);
  });
});

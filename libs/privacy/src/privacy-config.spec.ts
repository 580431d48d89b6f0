import { describe, expect, it } from '@jest/globals';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';
import { DataSubject, PersonalData, taggedTables } from './personal-data.js';
import { loadPrivacyConfig, parsePrivacyConfig, type PrivacyConfig } from './privacy-config.js';
import { PURPOSES } from './purposes.js';

const purposes = Object.fromEntries(
  PURPOSES.map((id) => [id, { basis: id === 'service' ? 'contract' : 'consent', description: `${id} text` }]),
);
const valid = () => ({
  purposes: structuredClone(purposes),
  categories: { phone: { description: 'Phone', sensitivity: 'high', retention: 'account' } },
});

describe('config/privacy.yaml', () => {
  it('the shipped file is valid and describes the six purposes', () => {
    const config = loadPrivacyConfig();
    expect(Object.keys(config.purposes)).toEqual([...PURPOSES]);
    expect(config.categories.wifi_name.retention).toEqual({ kind: 'period', hours: 24, text: '24 hours' });
  });

  it.each([
    [
      'a missing purpose',
      (raw: ReturnType<typeof valid>) => delete (raw.purposes as Record<string, unknown>).marketing,
      'purposes.marketing',
    ],
    [
      'an unknown purpose',
      (raw: ReturnType<typeof valid>) => Object.assign(raw.purposes, { telemetry: { basis: 'consent', description: 'x' } }),
      'purposes.telemetry',
    ],
    [
      'service on consent',
      (raw: ReturnType<typeof valid>) => Object.assign(raw.purposes.service, { basis: 'consent' }),
      'purposes.service.basis',
    ],
    [
      'a bad retention',
      (raw: ReturnType<typeof valid>) => Object.assign(raw.categories.phone, { retention: 'forever' }),
      'categories.phone.retention',
    ],
    [
      'a bad sensitivity',
      (raw: ReturnType<typeof valid>) => Object.assign(raw.categories.phone, { sensitivity: 'secret' }),
      'categories.phone.sensitivity',
    ],
  ])('refuses %s, naming the key', (_label, spoil, key) => {
    const raw = valid();
    spoil(raw);
    expect(() => parsePrivacyConfig(raw)).toThrow(new RegExp(`: ${key.replace(/\./g, '\\.')}: `));
  });
});

@Entity('spec_untagged_subject')
class NoSubjectEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @PersonalData({ category: 'phone', purposes: ['service'] }) @Column({ type: 'varchar', nullable: true }) phone!: string | null;
}

@Entity('spec_bad_tags')
class BadTagsEntity {
  @DataSubject() @PrimaryGeneratedColumn('uuid') id!: string;
  @PersonalData({ category: 'shoe_size', purposes: ['service'] }) @Column({ type: 'varchar', nullable: true }) shoe!: string | null;
}

@Entity('spec_not_null')
class NotNullEntity {
  @DataSubject() @PrimaryGeneratedColumn('uuid') id!: string;
  @PersonalData({ category: 'phone', purposes: ['service'] }) @Column({ type: 'varchar' }) phone!: string;
}

describe('personal-data tags', () => {
  const config: PrivacyConfig = parsePrivacyConfig(valid());

  it('needs a @DataSubject column', () => {
    expect(() => taggedTables([NoSubjectEntity])).toThrow(
      'spec_untagged_subject: an entity with @PersonalData columns needs @DataSubject()',
    );
  });

  it('refuses an unknown category and a NOT NULL column, naming table.column', () => {
    expect(() => new PrivacyCatalog(config, taggedTables([BadTagsEntity]))).toThrow('spec_bad_tags.shoe: unknown category "shoe_size"');
    expect(() => new PrivacyCatalog(config, taggedTables([NotNullEntity]))).toThrow(
      'spec_not_null.phone: a personal-data column must be nullable',
    );
  });

  it('resolves table, column names and the subject from the TypeORM metadata', () => {
    const [table] = taggedTables([NotNullEntity]);
    expect(table).toMatchObject({ table: 'spec_not_null', subject: { property: 'id', column: 'id' }, subjectIsKey: true });
    expect(table.columns.map(({ column, category, purposes }) => ({ column, category, purposes }))).toEqual([
      { column: 'phone', category: 'phone', purposes: ['service'] },
    ]);
  });
});

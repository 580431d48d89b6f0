import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LawfulBasis, livePurposesFrom, PrivacyModule, PURPOSES, type Purpose } from '#libs/privacy';
import { startMedium, type MediumWorld } from '../support/medium.js';

/**
 * The live-purpose rule has two statements: livePurposesFrom in TypeScript
 * (what LawfulBasis answers before every write) and the SQL function
 * privacy_is_live of the privacy migration (what the retention sweep uses).
 * For random consent states and restrictions, written as the ledger leaves
 * them, the two and LawfulBasis itself must give the same live purposes.
 */
describe('live purposes: LawfulBasis, livePurposesFrom and privacy_is_live agree', () => {
  let world: MediumWorld;
  let basis: LawfulBasis;

  beforeAll(async () => {
    world = await startMedium({ imports: [PrivacyModule], entities: [] });
    basis = world.app.get(LawfulBasis);
  });

  afterAll(async () => {
    await world?.close();
  });

  const state = fc.record({
    decisions: fc.record(Object.fromEntries(PURPOSES.map((purpose) => [purpose, fc.option(fc.boolean(), { nil: undefined })])), {
      requiredKeys: [],
    }) as fc.Arbitrary<Partial<Record<Purpose, boolean | undefined>>>,
    restricted: fc.option(fc.boolean(), { nil: undefined }),
  });

  async function person(decisions: Partial<Record<Purpose, boolean | undefined>>, restricted: boolean | undefined): Promise<string> {
    const subject = randomUUID();
    for (const [purpose, granted] of Object.entries(decisions)) {
      if (granted === undefined) continue;
      await world.sql(
        `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq) VALUES ($1, $2, $3, '2020-01', now(), 1)`,
        [subject, purpose, granted],
      );
    }
    if (restricted !== undefined) {
      await world.sql('INSERT INTO processing_restrictions (subject_id, restricted, changed_at) VALUES ($1, $2, now())', [
        subject,
        restricted,
      ]);
    }
    return subject;
  }

  it('for any consent state and restriction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(state, { minLength: 1, maxLength: 4 }), async (people) => {
        const subjects = await Promise.all(people.map(({ decisions, restricted }) => person(decisions, restricted)));
        const many = await basis.livePurposesOfMany(subjects);
        for (const [index, subject] of subjects.entries()) {
          const { decisions, restricted } = people[index];
          const granted = new Map(Object.entries(decisions).filter((entry): entry is [string, boolean] => entry[1] !== undefined));
          const rule = [...livePurposesFrom(granted, restricted ?? false)].sort();
          const [inSql] = await world.sql<{ live: Purpose[] }>(
            `SELECT coalesce(array_agg(p ORDER BY p) FILTER (WHERE privacy_is_live($1::uuid, p)), '{}') AS live FROM unnest($2::text[]) AS p`,
            [subject, [...PURPOSES]],
          );
          expect({
            subject,
            code: [...(await basis.livePurposes(subject))].sort(),
            sql: inSql.live,
            many: [...many.get(subject)!].sort(),
          }).toEqual({
            subject,
            code: rule,
            sql: rule,
            many: rule,
          });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a person who never decided anything has no live purpose, and neither has no person', async () => {
    const stranger = randomUUID();
    expect([...(await basis.livePurposes(stranger))]).toEqual([]);
    const [row] = await world.sql<{ live: boolean; nobody: boolean }>(
      `SELECT privacy_is_live($1::uuid, 'service') AS live, privacy_is_live(NULL, 'service') AS nobody`,
      [stranger],
    );
    expect(row).toEqual({ live: false, nobody: false });
  });
});

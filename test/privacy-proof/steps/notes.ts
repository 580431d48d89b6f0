import fc from 'fast-check';
import { expectStored } from '../checks.js';
import { NOTE_FIELDS, pick, ProofNoteEntity, step, type NoteValues, type Step } from '../world.js';

/** Personal-data writes on the test table proof_notes, whose columns cover every optional purpose. */

export const text = fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: null });
export const noteValues: fc.Arbitrary<NoteValues> = fc.record(
  Object.fromEntries(NOTE_FIELDS.map((field) => [field, text])) as Record<(typeof NOTE_FIELDS)[number], typeof text>,
  { requiredKeys: [] },
);

export const writeNote: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), values: noteValues }).map(({ who, values }) =>
  step('writeNote', { who, values }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    await world.writer.insert(ProofNoteEntity, subject, values);
    const [{ id }] = (await world.dataSource.query(
      'SELECT id FROM proof_notes WHERE subject_id = $1 ORDER BY created_at DESC, id LIMIT 1',
      [subject],
    )) as Array<{ id: string }>;
    await expectStored(world, subject, id, values);
  }),
);

export const updateNotes: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), values: noteValues }).map(({ who, values }) =>
  step('updateNotes', { who, values }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    await world.writer.update(ProofNoteEntity, subject, {}, values);
  }),
);

export const endPairing: fc.Arbitrary<Step> = fc
  .record({ who: fc.nat(), hoursAgo: fc.integer({ min: 0, max: 48 }) })
  .map(({ who, hoursAgo }) =>
    step('endPairing', { who, hoursAgo }, async (world) => {
      const subject = pick(world, who);
      if (!subject) return;
      await world.dataSource.query(
        `UPDATE proof_notes SET ended_at = now() - make_interval(hours => $2) WHERE subject_id = $1 AND ended_at IS NULL`,
        [subject, hoursAgo],
      );
    }),
  );

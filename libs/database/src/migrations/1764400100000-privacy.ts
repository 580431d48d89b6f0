import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Privacy: policy versions, the append-only consent ledger (hash-chained per
 * person) with its derived current state, processing restrictions and the
 * staff access log. `privacy_is_live` states in SQL the same rule the code
 * enforces, so sweeps and audits can use it.
 */
export class Privacy1764400100000 implements MigrationInterface {
  name = 'Privacy1764400100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE policy_versions (
        version varchar(32) PRIMARY KEY,
        effective_at timestamptz NOT NULL,
        summary text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      INSERT INTO policy_versions (version, effective_at, summary)
      VALUES ('2020-01', '2020-01-01T00:00:00Z', 'Privacy statement of January 2020')`);
    await queryRunner.query(`
      CREATE TABLE consent_events (
        id bigserial PRIMARY KEY,
        subject_id uuid NOT NULL,
        seq int NOT NULL,
        purpose varchar(32) NOT NULL,
        granted boolean NOT NULL,
        policy_version varchar(32) NOT NULL REFERENCES policy_versions(version),
        channel varchar(32) NOT NULL,
        at timestamptz NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        UNIQUE (subject_id, seq)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'consent_events is append-only: record a new event instead';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events
      FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
      FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()`);
    await queryRunner.query(`
      CREATE TABLE consent_state (
        subject_id uuid NOT NULL,
        purpose varchar(32) NOT NULL,
        granted boolean NOT NULL,
        policy_version varchar(32) NOT NULL,
        at timestamptz NOT NULL,
        event_seq int NOT NULL,
        PRIMARY KEY (subject_id, purpose)
      )`);
    await queryRunner.query(`
      CREATE TABLE processing_restrictions (
        subject_id uuid PRIMARY KEY,
        restricted boolean NOT NULL,
        changed_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE access_log (
        id bigserial PRIMARY KEY,
        subject_id uuid NOT NULL,
        actor_id uuid NOT NULL,
        actor_role varchar(16) NOT NULL,
        what text NOT NULL,
        purpose varchar(32) NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX access_log_subject ON access_log (subject_id, at)`);
    await queryRunner.query(`
      CREATE FUNCTION privacy_is_live(subject uuid, purpose text) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT subject IS NOT NULL
           AND EXISTS (SELECT 1 FROM consent_state s WHERE s.subject_id = subject AND s.purpose = 'service' AND s.granted)
           AND (purpose = 'service' OR (
                EXISTS (SELECT 1 FROM consent_state s WHERE s.subject_id = subject AND s.purpose = privacy_is_live.purpose AND s.granted)
                AND NOT EXISTS (SELECT 1 FROM processing_restrictions r WHERE r.subject_id = subject AND r.restricted)))
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION privacy_is_live(uuid, text)');
    for (const table of ['access_log', 'processing_restrictions', 'consent_state', 'consent_events', 'policy_versions']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    await queryRunner.query('DROP FUNCTION consent_events_append_only()');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fault reports, repair tickets and their status history. report_id is the
 * primary key, so a report sent twice is stored once whatever races happen;
 * a de-identified report provably keeps no SN, MAC, diagnostics or person.
 */
export class Faults1764400500000 implements MigrationInterface {
  name = 'Faults1764400500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE fault_reports (
        report_id uuid PRIMARY KEY,
        stored varchar(16) NOT NULL CHECK (stored IN ('full', 'deidentified')),
        sn varchar(64),
        mac varchar(17),
        diagnostics jsonb,
        owner_id uuid REFERENCES users(id),
        model varchar(64) NOT NULL,
        firmware varchar(32),
        code varchar(64) NOT NULL,
        severity varchar(16) NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT fault_reports_deidentified_keeps_nothing
          CHECK (stored = 'full' OR (sn IS NULL AND mac IS NULL AND diagnostics IS NULL AND owner_id IS NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX fault_reports_device ON fault_reports (sn, occurred_at DESC, report_id DESC) WHERE sn IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX fault_reports_owner ON fault_reports (owner_id) WHERE owner_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX fault_reports_occurred ON fault_reports (occurred_at)`);
    await queryRunner.query(`
      CREATE TABLE repair_tickets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id),
        sn varchar(64),
        model varchar(64) NOT NULL,
        description text,
        status varchar(16) NOT NULL CHECK (status IN ('open', 'assigned', 'completed', 'cancelled')),
        technician_id uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        assigned_at timestamptz,
        closed_at timestamptz,
        completion_notes text,
        CHECK (status <> 'assigned' OR technician_id IS NOT NULL)
      )`);
    await queryRunner.query(`CREATE INDEX repair_tickets_owner ON repair_tickets (owner_id)`);
    await queryRunner.query(`CREATE INDEX repair_tickets_status ON repair_tickets (status, created_at)`);
    await queryRunner.query(`CREATE INDEX repair_tickets_technician ON repair_tickets (technician_id) WHERE status = 'assigned'`);
    await queryRunner.query(`
      CREATE TABLE repair_status_history (
        id bigserial PRIMARY KEY,
        repair_id uuid NOT NULL REFERENCES repair_tickets(id) ON DELETE CASCADE,
        status varchar(16) NOT NULL,
        technician_id uuid,
        actor_id uuid,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX repair_status_history_repair ON repair_status_history (repair_id, at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE repair_status_history');
    await queryRunner.query('DROP TABLE repair_tickets');
    await queryRunner.query('DROP TABLE fault_reports');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Desired state: a version counter per device (rising across owners, the row
 * each control request and report of the device locks), and the control
 * requests held for the owner of the moment (the state history).
 */
export class DesiredState1764401350000 implements MigrationInterface {
  name = 'DesiredState1764401350000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE device_desired_versions (
        sn varchar(64) PRIMARY KEY REFERENCES devices(sn) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 0)
      )`);
    await queryRunner.query(`
      CREATE TABLE device_desired_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        sn varchar(64) NOT NULL REFERENCES devices(sn) ON DELETE CASCADE,
        owner_id uuid NOT NULL REFERENCES users(id),
        version integer NOT NULL CHECK (version >= 1),
        asked jsonb,
        merged jsonb,
        status varchar(16) NOT NULL CHECK (status IN ('pending', 'applied', 'rejected', 'expired')),
        requested_at timestamptz,
        requested_by uuid,
        requested_by_role varchar(8) NOT NULL CHECK (requested_by_role IN ('owner', 'member')),
        expires_at timestamptz NOT NULL,
        settled_at timestamptz,
        rejected jsonb,
        UNIQUE (sn, version)
      )`);
    await queryRunner.query(`CREATE INDEX device_desired_requests_owner ON device_desired_requests (owner_id)`);
    await queryRunner.query(`CREATE INDEX device_desired_requests_requester ON device_desired_requests (requested_by)`);
    await queryRunner.query(
      `CREATE INDEX device_desired_requests_pending ON device_desired_requests (expires_at) WHERE status = 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_desired_requests`);
    await queryRunner.query(`DROP TABLE device_desired_versions`);
  }
}

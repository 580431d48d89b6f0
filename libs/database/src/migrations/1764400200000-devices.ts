import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The device registry. Ownership and sharing are kept out of this table on
 * purpose: they go in their own tables referencing devices(sn).
 */
export class Devices1764400200000 implements MigrationInterface {
  name = 'Devices1764400200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE devices (
        sn varchar(64) PRIMARY KEY CHECK (sn ~ '^[A-Za-z0-9_-]{4,64}$'),
        mac varchar(17) NOT NULL,
        model varchar(64) NOT NULL,
        firmware varchar(32),
        secret_hash char(64),
        claim_code_hash char(64) NOT NULL,
        secret_rotated_at timestamptz,
        revoked_at timestamptz,
        online boolean NOT NULL DEFAULT false,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE devices`);
  }
}

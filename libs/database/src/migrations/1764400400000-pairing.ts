import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pairing sessions, the per-account count of wrong claim codes, and each
 * person's device history (when and how a device came and left).
 *
 * pairings.ended_at is never NULL: a pending pairing holds the moment it will
 * expire, and the real end replaces it when it ends sooner. Network info is
 * erased 24 hours after it, so a pairing nobody confirms cannot keep it.
 */
export class Pairing1764400400000 implements MigrationInterface {
  name = 'Pairing1764400400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE pairings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        sn varchar(64) REFERENCES devices(sn) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'bound', 'expired', 'rejected')),
        wrong_tokens integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        phone_model varchar(64),
        os_version varchar(32),
        router_mac varchar(17),
        hidden_ssid boolean,
        network_id varchar(64),
        wifi_name varchar(64)
      )`);
    await queryRunner.query(`CREATE INDEX pairings_sn_open ON pairings (sn, ended_at)`);
    await queryRunner.query(`CREATE INDEX pairings_user ON pairings (user_id)`);
    await queryRunner.query(`
      CREATE TABLE pairing_claim_failures (
        user_id uuid NOT NULL REFERENCES users(id),
        failed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX pairing_claim_failures_user ON pairing_claim_failures (user_id, failed_at)`);
    await queryRunner.query(`
      CREATE TABLE device_history (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id),
        sn varchar(64),
        model varchar(64) NOT NULL,
        role varchar(8) NOT NULL CHECK (role IN ('owner', 'member')),
        event varchar(24) NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX device_history_user ON device_history (user_id, at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_history`);
    await queryRunner.query(`DROP TABLE pairing_claim_failures`);
    await queryRunner.query(`DROP TABLE pairings`);
  }
}

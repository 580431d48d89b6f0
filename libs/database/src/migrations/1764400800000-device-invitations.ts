import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shares by phone that wait for that phone to sign in. Sharing answers the
 * same whether or not the phone has an account, so every share starts here;
 * the row goes when the share becomes a membership, when it expires, and with
 * the device's binding (unbind, factory reset, the owner's erasure).
 */
export class DeviceInvitations1764400800000 implements MigrationInterface {
  name = 'DeviceInvitations1764400800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE device_invitations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        sn varchar(64) NOT NULL REFERENCES device_bindings(sn) ON DELETE CASCADE,
        owner_id uuid NOT NULL REFERENCES users(id),
        phone varchar(16),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX device_invitations_sn_phone ON device_invitations (sn, phone)`);
    await queryRunner.query(`CREATE INDEX device_invitations_phone ON device_invitations (phone)`);
    await queryRunner.query(`CREATE INDEX device_invitations_owner ON device_invitations (owner_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_invitations`);
  }
}

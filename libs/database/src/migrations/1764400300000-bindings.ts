import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who owns and who shares a device. One owner per device is the primary key
 * of device_bindings, so two accounts racing to bind the same device cannot
 * both win, whatever the code does.
 */
export class Bindings1764400300000 implements MigrationInterface {
  name = 'Bindings1764400300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE device_bindings (
        sn varchar(64) PRIMARY KEY REFERENCES devices(sn) ON DELETE CASCADE,
        owner_id uuid NOT NULL REFERENCES users(id),
        bound_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX device_bindings_owner ON device_bindings (owner_id)`);
    await queryRunner.query(`
      CREATE TABLE device_members (
        sn varchar(64) NOT NULL REFERENCES device_bindings(sn) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sn, user_id)
      )`);
    await queryRunner.query(`CREATE INDEX device_members_user ON device_members (user_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_members`);
    await queryRunner.query(`DROP TABLE device_bindings`);
  }
}

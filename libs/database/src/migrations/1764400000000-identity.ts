import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1764400000000 implements MigrationInterface {
  name = 'Identity1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        phone varchar(16) UNIQUE,
        roles text[] NOT NULL DEFAULT '{user}',
        nickname varchar(64),
        name varchar(64),
        gender varchar(16),
        birth_date date,
        location varchar(128),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE otp_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        phone_hash char(64) NOT NULL,
        ip_hash char(64) NOT NULL,
        code_hash char(64) NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX otp_challenges_phone ON otp_challenges (phone_hash, created_at)`);
    await queryRunner.query(`CREATE INDEX otp_challenges_ip ON otp_challenges (ip_hash, created_at)`);
    await queryRunner.query(`
      CREATE TABLE login_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        method varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason varchar(32)
      )`);
    await queryRunner.query(`CREATE INDEX login_sessions_user ON login_sessions (user_id)`);
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES login_sessions(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)`);
    await queryRunner.query(`
      CREATE TABLE oauth_accounts (
        provider varchar(16) NOT NULL,
        subject varchar(128) NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider, subject)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['oauth_accounts', 'refresh_tokens', 'login_sessions', 'otp_challenges', 'users']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed firmware images, update campaigns and one job per targeted device.
 * The image bytes live in files (FirmwareStorage), not in rows.
 *
 * A device is in at most one campaign that is not over: the partial unique
 * index on firmware_jobs (sn) WHERE released_at IS NULL says so, whatever the
 * code does. A job is released when its campaign is over (completed, or
 * cancelled and the job ended), never before.
 */
export class Firmware1764401500000 implements MigrationInterface {
  name = 'Firmware1764401500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE firmware_images (
        id uuid PRIMARY KEY,
        model varchar(64) NOT NULL,
        version varchar(32) NOT NULL CHECK (version ~ '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$'),
        size bigint NOT NULL CHECK (size > 0),
        sha256 char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        signature varchar(128) NOT NULL,
        key_id varchar(64) NOT NULL,
        uploaded_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT firmware_images_model_version UNIQUE (model, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE firmware_campaigns (
        id uuid PRIMARY KEY,
        firmware_id uuid NOT NULL REFERENCES firmware_images(id),
        status varchar(16) NOT NULL CHECK (status IN ('running', 'paused', 'completed', 'cancelled')),
        pause_reason varchar(32) CHECK (pause_reason IN ('admin', 'failureThreshold')),
        steps smallint[] NOT NULL,
        step smallint NOT NULL CHECK (step >= 1),
        targeted integer NOT NULL CHECK (targeted >= 0),
        failure_threshold double precision NOT NULL CHECK (failure_threshold BETWEEN 0 AND 1),
        job_timeout_seconds integer NOT NULL CHECK (job_timeout_seconds BETWEEN 60 AND 604800),
        allow_downgrade boolean NOT NULL,
        from_versions varchar(32)[],
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        CHECK ((status = 'paused') = (pause_reason IS NOT NULL)),
        CHECK ((status IN ('completed', 'cancelled')) = (ended_at IS NOT NULL))
      )`);
    await queryRunner.query(`CREATE INDEX firmware_campaigns_created ON firmware_campaigns (created_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE firmware_jobs (
        id uuid PRIMARY KEY,
        campaign_id uuid NOT NULL REFERENCES firmware_campaigns(id),
        sn varchar(64) NOT NULL REFERENCES devices(sn) ON DELETE CASCADE,
        step smallint NOT NULL CHECK (step >= 1),
        state varchar(16) NOT NULL
          CHECK (state IN ('pending', 'notified', 'downloading', 'installing', 'succeeded', 'failed', 'timedOut', 'withdrawn')),
        progress smallint CHECK (progress BETWEEN 0 AND 100),
        reason varchar(256),
        from_version varchar(32),
        reported_version varchar(32),
        notified_at timestamptz,
        deadline timestamptz,
        published_at timestamptz,
        ended_at timestamptz,
        released_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((state IN ('succeeded', 'failed', 'timedOut', 'withdrawn')) = (ended_at IS NOT NULL)),
        CHECK (state IN ('pending', 'withdrawn') OR (notified_at IS NOT NULL AND deadline IS NOT NULL)),
        CHECK (released_at IS NULL OR ended_at IS NOT NULL)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX firmware_jobs_one_open_campaign ON firmware_jobs (sn) WHERE released_at IS NULL`);
    await queryRunner.query(`CREATE INDEX firmware_jobs_campaign_step ON firmware_jobs (campaign_id, step, state)`);
    await queryRunner.query(
      `CREATE INDEX firmware_jobs_deadline ON firmware_jobs (deadline) WHERE state IN ('notified', 'downloading', 'installing')`,
    );
    await queryRunner.query(
      `CREATE INDEX firmware_jobs_unpublished ON firmware_jobs (notified_at) WHERE state = 'notified' AND published_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE firmware_jobs`);
    await queryRunner.query(`DROP TABLE firmware_campaigns`);
    await queryRunner.query(`DROP TABLE firmware_images`);
  }
}

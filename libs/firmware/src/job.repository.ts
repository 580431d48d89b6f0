import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ACTIVE_JOB_STATES, emptyCounts, JOB_STATES, type JobCounts, type JobState } from './campaign-rules.js';
import { JobEntity } from './job.entity.js';

const ACTIVE = `('${ACTIVE_JOB_STATES.join("', '")}')`;

/** A job as the delivery needs it: whom to send it to. */
export interface JobAddress {
  id: string;
  sn: string;
}

export interface NewJob {
  id: string;
  sn: string;
  step: number;
  fromVersion: string | null;
  /** Jobs of the first step are created already notified, with their deadline. */
  notified: boolean;
}

/** A job whose retained message must go out again, with what the message carries. */
export interface UnpublishedJob extends JobAddress {
  version: string;
  size: number;
  sha256: string;
  signature: string;
  keyId: string;
}

export interface DownloadableJob {
  sn: string;
  state: JobState;
  firmwareId: string;
  size: number;
  sha256: string;
}

export interface JobListFilter {
  state?: JobState;
  step?: number;
  limit: number;
  /** SN to continue after (the listing is ordered by SN). */
  after?: string;
}

@Injectable()
export class JobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Which of these devices a campaign that is not over still holds. */
  async heldAmong(sns: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Set<string>> {
    const rows = (await manager.query(`SELECT sn FROM firmware_jobs WHERE released_at IS NULL AND sn = ANY($1::varchar[])`, [
      sns,
    ])) as Array<{
      sn: string;
    }>;
    return new Set(rows.map((row) => row.sn));
  }

  /**
   * One statement for the whole campaign, whatever its size. A device another
   * campaign holds is left out by the partial unique index (ON CONFLICT), so
   * two campaigns created at once cannot both take it. Rows go in SN order, so
   * two such inserts wait on each other's first device instead of each holding
   * what the other needs next (a deadlock). Returns what was inserted.
   */
  async insertMany(
    campaignId: string,
    jobs: readonly NewJob[],
    notifiedAt: Date,
    deadline: Date,
    manager: EntityManager,
  ): Promise<Array<JobAddress & { step: number; notified: boolean }>> {
    const rows = (await manager.query(
      `INSERT INTO firmware_jobs (id, campaign_id, sn, step, state, from_version, notified_at, deadline)
       SELECT job.id, $1::uuid, job.sn, job.step, CASE WHEN job.notified THEN 'notified' ELSE 'pending' END, job.from_version,
              CASE WHEN job.notified THEN $7::timestamptz END, CASE WHEN job.notified THEN $8::timestamptz END
         FROM unnest($2::uuid[], $3::varchar[], $4::smallint[], $5::varchar[], $6::boolean[]) AS job(id, sn, step, from_version, notified)
        ORDER BY job.sn
       ON CONFLICT (sn) WHERE released_at IS NULL DO NOTHING
       RETURNING id, sn, step, state`,
      [
        campaignId,
        jobs.map((job) => job.id),
        jobs.map((job) => job.sn),
        jobs.map((job) => job.step),
        jobs.map((job) => job.fromVersion),
        jobs.map((job) => job.notified),
        notifiedAt,
        deadline,
      ],
    )) as Array<{ id: string; sn: string; step: number; state: JobState }>;
    return rows.map((row) => ({ id: row.id, sn: row.sn, step: row.step, notified: row.state === 'notified' }));
  }

  /** Starts a step: its pending jobs become notified with their deadline. */
  async notifyStep(campaignId: string, step: number, at: Date, deadline: Date, manager: EntityManager): Promise<JobAddress[]> {
    const [rows] = (await manager.query(
      `UPDATE firmware_jobs SET state = 'notified', notified_at = $3, deadline = $4, updated_at = $3
        WHERE campaign_id = $1 AND step = $2 AND state = 'pending'
        RETURNING id, sn`,
      [campaignId, step, at, deadline],
    )) as [JobAddress[], number];
    return rows;
  }

  /** Which of these jobs have ended (e.g. withdrawn while their message was on its way), with their devices. */
  async endedAmong(ids: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<JobAddress[]> {
    if (ids.length === 0) return [];
    return (await manager.query(`SELECT id, sn FROM firmware_jobs WHERE id = ANY($1::uuid[]) AND ended_at IS NOT NULL`, [
      ids,
    ])) as JobAddress[];
  }

  async markPublished(ids: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(`UPDATE firmware_jobs SET published_at = now() WHERE id = ANY($1::uuid[]) AND published_at IS NULL`, [ids]);
  }

  /**
   * Claims notified jobs whose message never reached the broker (the process
   * stopped in between): marked published now, so another replica leaves them;
   * the caller sends them and calls markUnpublished for any that fail.
   */
  async claimUnpublished(notifiedBefore: Date, limit: number, manager: EntityManager = this.dataSource.manager): Promise<UnpublishedJob[]> {
    const [rows] = (await manager.query(
      `UPDATE firmware_jobs AS j SET published_at = now()
         FROM firmware_campaigns c, firmware_images i
        WHERE j.id IN (SELECT id FROM firmware_jobs
                        WHERE state = 'notified' AND published_at IS NULL AND notified_at < $1
                        ORDER BY notified_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          AND c.id = j.campaign_id AND i.id = c.firmware_id
        RETURNING j.id, j.sn, i.version, i.size, i.sha256, i.signature, i.key_id`,
      [notifiedBefore, limit],
    )) as [Array<{ id: string; sn: string; version: string; size: string; sha256: string; signature: string; key_id: string }>, number];
    return rows.map((row) => ({ ...row, size: Number(row.size), keyId: row.key_id }));
  }

  async markUnpublished(ids: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(`UPDATE firmware_jobs SET published_at = NULL WHERE id = ANY($1::uuid[]) AND state = 'notified'`, [ids]);
  }

  /**
   * A progress report of the device for its own job: moves it only from the
   * given states (forward), and only when the job is this device's. Returns the
   * campaign, or null when nothing changed.
   */
  async recordProgress(
    sn: string,
    jobId: string,
    report: { state: 'downloading' | 'installing' | 'failed'; progress?: number; reason?: string },
    from: readonly JobState[],
    at: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ campaignId: string } | null> {
    const [rows] = (await manager.query(
      `UPDATE firmware_jobs
          SET state = $3::varchar, progress = COALESCE($4::smallint, CASE WHEN state = $3::varchar THEN progress END),
              reason = COALESCE($5::varchar, reason),
              ended_at = CASE WHEN $3::varchar = 'failed' THEN $7::timestamptz END, updated_at = $7::timestamptz
        WHERE id = $1 AND sn = $2 AND state = ANY($6::varchar[])
        RETURNING campaign_id`,
      [jobId, sn, report.state, report.progress ?? null, report.reason ?? null, from, at],
    )) as [Array<{ campaign_id: string }>, number];
    return rows[0] ? { campaignId: rows[0].campaign_id } : null;
  }

  /**
   * The device reported `firmware` while a job of it runs: the job notes it,
   * and succeeds when it is exactly the target version. Null when no job runs.
   */
  async settleOnReport(
    sn: string,
    firmware: string,
    at: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ campaignId: string; succeeded: boolean } | null> {
    const [rows] = (await manager.query(
      `UPDATE firmware_jobs AS j
          SET reported_version = $2::varchar, updated_at = $3::timestamptz,
              state = CASE WHEN i.version = $2::varchar THEN 'succeeded' ELSE j.state END,
              progress = CASE WHEN i.version = $2::varchar THEN 100 ELSE j.progress END,
              ended_at = CASE WHEN i.version = $2::varchar THEN $3::timestamptz END
         FROM firmware_campaigns c, firmware_images i
        WHERE j.sn = $1 AND j.released_at IS NULL AND j.state IN ${ACTIVE}
          AND c.id = j.campaign_id AND i.id = c.firmware_id
        RETURNING j.campaign_id, j.state`,
      [sn, firmware, at],
    )) as [Array<{ campaign_id: string; state: JobState }>, number];
    return rows[0] ? { campaignId: rows[0].campaign_id, succeeded: rows[0].state === 'succeeded' } : null;
  }

  /**
   * Every job past its deadline becomes timedOut in one UPDATE: with several
   * replicas sweeping at once each row is taken by exactly one of them (the
   * row lock, then the re-checked WHERE), and only that one gets it back.
   */
  async timeOut(at: Date, manager: EntityManager = this.dataSource.manager): Promise<Array<JobAddress & { campaignId: string }>> {
    const [rows] = (await manager.query(
      `UPDATE firmware_jobs SET state = 'timedOut', ended_at = $1, updated_at = $1
        WHERE state IN ${ACTIVE} AND deadline < $1
        RETURNING id, sn, campaign_id`,
      [at],
    )) as [Array<{ id: string; sn: string; campaign_id: string }>, number];
    return rows.map((row) => ({ id: row.id, sn: row.sn, campaignId: row.campaign_id }));
  }

  /** Cancel: every job not yet started (pending, or notified with no word from the device) is withdrawn. */
  async withdrawUnstarted(campaignId: string, at: Date, manager: EntityManager): Promise<Array<{ sn: string; wasNotified: boolean }>> {
    const [rows] = (await manager.query(
      `WITH unstarted AS (
         SELECT id, state FROM firmware_jobs WHERE campaign_id = $1 AND state IN ('pending', 'notified') FOR UPDATE
       )
       UPDATE firmware_jobs AS j SET state = 'withdrawn', ended_at = $2, updated_at = $2
         FROM unstarted
        WHERE j.id = unstarted.id
        RETURNING j.sn, unstarted.state AS was`,
      [campaignId, at],
    )) as [Array<{ sn: string; was: JobState }>, number];
    return rows.map((row) => ({ sn: row.sn, wasNotified: row.was === 'notified' }));
  }

  /** Frees the devices of a campaign that is over: its ended jobs stop holding them. */
  async releaseEnded(campaignId: string, at: Date, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `UPDATE firmware_jobs SET released_at = $2 WHERE campaign_id = $1 AND released_at IS NULL AND ended_at IS NOT NULL`,
      [campaignId, at],
    );
  }

  /** The same for every campaign that is over, as a backstop for a release that was interrupted. */
  async releaseEndedOfClosedCampaigns(at: Date, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [, count] = (await manager.query(
      `UPDATE firmware_jobs AS j SET released_at = $1
         FROM firmware_campaigns c
        WHERE j.released_at IS NULL AND j.ended_at IS NOT NULL AND c.id = j.campaign_id AND c.status IN ('completed', 'cancelled')`,
      [at],
    )) as [unknown, number];
    return count;
  }

  async stepHasUnended(campaignId: string, step: number, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = (await manager.query(
      `SELECT EXISTS (SELECT 1 FROM firmware_jobs WHERE campaign_id = $1 AND step = $2 AND (state = 'pending' OR state IN ${ACTIVE})) AS busy`,
      [campaignId, step],
    )) as Array<{ busy: boolean }>;
    return rows[0].busy;
  }

  async countStep(campaignId: string, step: number, manager: EntityManager): Promise<JobCounts> {
    const rows = (await manager.query(
      `SELECT state, count(*)::int AS count FROM firmware_jobs WHERE campaign_id = $1 AND step = $2 GROUP BY state`,
      [campaignId, step],
    )) as Array<{ state: JobState; count: number }>;
    return toCounts(rows);
  }

  /** Job counts by state of each campaign. */
  async countByCampaign(campaignIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, JobCounts>> {
    const rows = (await manager.query(
      `SELECT campaign_id, state, count(*)::int AS count FROM firmware_jobs WHERE campaign_id = ANY($1::uuid[]) GROUP BY campaign_id, state`,
      [campaignIds],
    )) as Array<{ campaign_id: string; state: JobState; count: number }>;
    const counts = new Map(campaignIds.map((id) => [id, emptyCounts()]));
    for (const row of rows) counts.get(row.campaign_id)![row.state] = row.count;
    return counts;
  }

  /** The lowest step after `step` that still has pending jobs, or null. */
  async nextPendingStep(campaignId: string, step: number, manager: EntityManager): Promise<number | null> {
    const rows = (await manager.query(
      `SELECT min(step)::int AS step FROM firmware_jobs WHERE campaign_id = $1 AND step > $2 AND state = 'pending'`,
      [campaignId, step],
    )) as Array<{ step: number | null }>;
    return rows[0].step;
  }

  async findForDownload(jobId: string, manager: EntityManager = this.dataSource.manager): Promise<DownloadableJob | null> {
    const rows = (await manager.query(
      `SELECT j.sn, j.state, c.firmware_id, i.size, i.sha256
         FROM firmware_jobs j JOIN firmware_campaigns c ON c.id = j.campaign_id JOIN firmware_images i ON i.id = c.firmware_id
        WHERE j.id = $1`,
      [jobId],
    )) as Array<{ sn: string; state: JobState; firmware_id: string; size: string; sha256: string }>;
    const row = rows[0];
    return row ? { sn: row.sn, state: row.state, firmwareId: row.firmware_id, size: Number(row.size), sha256: row.sha256 } : null;
  }

  list(campaignId: string, filter: JobListFilter, manager: EntityManager = this.dataSource.manager): Promise<JobEntity[]> {
    const query = manager
      .getRepository(JobEntity)
      .createQueryBuilder('job')
      .where('job.campaign_id = :campaignId', { campaignId })
      .orderBy('job.sn', 'ASC')
      .take(filter.limit);
    if (filter.state) query.andWhere('job.state = :state', { state: filter.state });
    if (filter.step) query.andWhere('job.step = :step', { step: filter.step });
    if (filter.after) query.andWhere('job.sn > :after', { after: filter.after });
    return query.getMany();
  }
}

function toCounts(rows: Array<{ state: JobState; count: number }>): JobCounts {
  const counts = emptyCounts();
  for (const row of rows) if ((JOB_STATES as readonly string[]).includes(row.state)) counts[row.state] = row.count;
  return counts;
}

import { Injectable, Logger } from '@nestjs/common';
import { DownloadTokens } from './download-tokens.js';
import type { FirmwareImageEntity } from './firmware-image.entity.js';
import { JobRepository, type JobAddress } from './job.repository.js';
import { DownloadUrls, OtaJobNotifier, type OtaJobMessage } from './ota-job.notifier.js';

type ImageFacts = Pick<FirmwareImageEntity, 'version' | 'size' | 'sha256' | 'signature' | 'keyId'>;

/**
 * Sends notified jobs to their devices (after the commit that notified them)
 * and records that they went out, so a job whose message was lost with the
 * process is sent again by the sweep; clears the retained job of ended ones.
 */
@Injectable()
export class JobDelivery {
  private readonly logger = new Logger('JobDelivery');

  constructor(
    private readonly jobs: JobRepository,
    private readonly notifier: OtaJobNotifier,
    private readonly urls: DownloadUrls,
    private readonly tokens: DownloadTokens,
  ) {}

  async deliver(jobs: readonly JobAddress[], image: ImageFacts): Promise<number> {
    if (jobs.length === 0) return 0;
    const published = await this.notifier.publish(jobs.map((job) => this.messageFor(job, image)));
    if (published.length < jobs.length) this.logger.warn(`${jobs.length - published.length} job message(s) not sent; the sweep retries`);
    await this.jobs.markPublished(published);
    await this.clearEndedMeanwhile(published);
    return published.length;
  }

  /** Sends claimed jobs again; the ones that still fail are released for a later sweep. */
  async redeliver(jobs: ReadonlyArray<JobAddress & ImageFacts>): Promise<number> {
    if (jobs.length === 0) return 0;
    const published = new Set(await this.notifier.publish(jobs.map((job) => this.messageFor(job, job))));
    await this.jobs.markUnpublished(jobs.filter((job) => !published.has(job.id)).map((job) => job.id));
    await this.clearEndedMeanwhile([...published]);
    return published.size;
  }

  /**
   * A job withdrawn (or ended) while its message was on the way may have been
   * cleared before the message landed; clearing it again now, on the same
   * link and so after the message, leaves no retained job behind.
   */
  private async clearEndedMeanwhile(published: readonly string[]): Promise<void> {
    const ended = await this.jobs.endedAmong(published);
    if (ended.length > 0) await this.notifier.clear(ended.map((job) => job.sn));
  }

  async withdraw(sns: readonly string[]): Promise<void> {
    if (sns.length > 0) await this.notifier.clear(sns);
  }

  private messageFor(job: JobAddress, image: ImageFacts): OtaJobMessage {
    return {
      sn: job.sn,
      payload: {
        jobId: job.id,
        version: image.version,
        url: this.urls.forJob(job.id, this.tokens.forJob(job.id)),
        size: image.size,
        sha256: image.sha256,
        signature: image.signature,
        keyId: image.keyId,
      },
    };
  }
}

import { Injectable } from '@nestjs/common';
import { CredentialHasher, DeviceFirmwareRepository } from '#libs/devices';
import { DomainError } from '#libs/platform';
import { ACTIVE_JOB_STATES, type JobState } from './campaign-rules.js';
import { DownloadTokens } from './download-tokens.js';
import { FirmwareStorage } from './firmware-storage.js';
import { JobRepository } from './job.repository.js';

export interface DownloadRequest {
  jobId: string;
  token: string;
  /** The device's own credentials, as on MQTT. */
  sn: string;
  secret: string;
}

export interface OpenedDownload {
  path: string;
  size: number;
  sha256: string;
}

/**
 * A device fetching its job's image. It must present its own credentials and
 * its job's token; another device's URL is 404 (nothing said about whether
 * that job exists), and its own URL once the job has ended is 410.
 */
@Injectable()
export class OpenDownload {
  constructor(
    private readonly devices: DeviceFirmwareRepository,
    private readonly hasher: CredentialHasher,
    private readonly jobs: JobRepository,
    private readonly tokens: DownloadTokens,
    private readonly storage: FirmwareStorage,
  ) {}

  async execute(request: DownloadRequest): Promise<OpenedDownload> {
    if (!this.hasher.matches(request.secret, await this.devices.secretHash(request.sn))) {
      throw new DomainError('UNAUTHORIZED', "Downloads need the device's own credentials (HTTP Basic: SN and device secret)");
    }
    const job = /^[0-9a-f-]{36}$/i.test(request.jobId) ? await this.jobs.findForDownload(request.jobId) : null;
    if (!job || job.sn !== request.sn || !this.tokens.matches(request.jobId, request.token) || job.state === 'pending') {
      throw new DomainError('NOT_FOUND', 'No such download');
    }
    if (!(ACTIVE_JOB_STATES as readonly JobState[]).includes(job.state)) {
      throw new DomainError('FIRMWARE_JOB_ENDED', `This job has ended (${job.state}); its download is no longer available`);
    }
    return { path: this.storage.pathOf(job.firmwareId), size: job.size, sha256: job.sha256 };
  }
}

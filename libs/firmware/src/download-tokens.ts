import { Injectable } from '@nestjs/common';
import { CredentialHasher } from '#libs/devices';

const PURPOSE = 'firmware-download:';

/**
 * The unguessable part of a job's download URL: HMAC-SHA256 of the job id
 * under the registry's server key (devices.secretKey), so any replica can
 * issue it again (a retried notification) and none stores it. It is bound to
 * one job; the job's state decides whether it still opens anything.
 */
@Injectable()
export class DownloadTokens {
  constructor(private readonly hasher: CredentialHasher) {}

  forJob(jobId: string): string {
    return this.hasher.hash(PURPOSE + jobId);
  }

  matches(jobId: string, token: string): boolean {
    return /^[0-9a-f]{64}$/.test(token) && this.hasher.matches(PURPOSE + jobId, token);
  }
}

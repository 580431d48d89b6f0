import type { AddressInfo } from 'node:net';
import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig } from '#libs/config';
import { DownloadUrls } from '#libs/firmware';

/**
 * Download URLs on firmware.downloadBaseUrl (how devices reach provisioning,
 * e.g. behind a load balancer), or in development this process's own port.
 */
@Injectable()
export class ProvisioningDownloadUrls extends DownloadUrls {
  constructor(
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    super();
    if (config.env === 'production' && !config.firmware.downloadBaseUrl) {
      new Logger('FirmwareDownloads').warn('firmware.downloadBaseUrl (FIRMWARE_DOWNLOAD_BASE_URL) is empty: job URLs point at 127.0.0.1');
    }
  }

  forJob(jobId: string, token: string): string {
    return `${this.base()}/v1/firmware/jobs/${jobId}/image?token=${token}`;
  }

  private base(): string {
    const configured = this.config.firmware.downloadBaseUrl;
    if (configured) return configured.replace(/\/+$/, '');
    const address = this.adapterHost.httpAdapter.getHttpServer().address() as AddressInfo | null;
    const host = ['0.0.0.0', '::', ''].includes(this.config.host) ? '127.0.0.1' : this.config.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address?.port ?? this.config.ports.provisioningHttp}`;
  }
}

import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { CredentialHasher, DeviceFirmwareRepository } from '#libs/devices';
import { Clock } from '#libs/identity';
import { AdvanceCampaign } from './advance-campaign.use-case.js';
import { CampaignRepository } from './campaign.repository.js';
import { CancelCampaign } from './cancel-campaign.use-case.js';
import { CreateCampaign } from './create-campaign.use-case.js';
import { DownloadTokens } from './download-tokens.js';
import { FindCampaigns } from './find-campaigns.use-case.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';
import { FirmwareStorage } from './firmware-storage.js';
import { JobDelivery } from './job-delivery.js';
import { JobSweep } from './job-sweep.js';
import { JobRepository } from './job.repository.js';
import { ListFirmware } from './list-firmware.use-case.js';
import { OpenDownload } from './open-download.use-case.js';
import type { DownloadUrls, OtaJobNotifier } from './ota-job.notifier.js';
import { PauseCampaign } from './pause-campaign.use-case.js';
import { RecordProgress } from './record-progress.use-case.js';
import { ResumeCampaign } from './resume-campaign.use-case.js';
import { SettleOnStatus } from './settle-on-status.use-case.js';
import { FirmwareSignatureVerifier } from './signature-verifier.js';
import { TimeOutJobs } from './time-out-jobs.use-case.js';
import { UploadFirmware } from './upload-firmware.use-case.js';

const USE_CASES = [
  UploadFirmware,
  ListFirmware,
  CreateCampaign,
  AdvanceCampaign,
  PauseCampaign,
  ResumeCampaign,
  CancelCampaign,
  FindCampaigns,
  RecordProgress,
  SettleOnStatus,
  TimeOutJobs,
  OpenDownload,
];

export interface FirmwareModuleOptions {
  /** How jobs reach devices (MQTT in the apps). */
  notifier: Provider<OtaJobNotifier>;
  /** The public address of downloads. */
  urls: Provider<DownloadUrls>;
  /** Run the periodic job sweep in this process (default true). */
  sweep?: boolean;
}

/** Firmware images, campaigns and jobs for provisioning. */
@Module({})
export class FirmwareModule {
  static forRoot(options: FirmwareModuleOptions): DynamicModule {
    return {
      module: FirmwareModule,
      providers: [
        options.notifier,
        options.urls,
        Clock,
        {
          provide: CredentialHasher,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new CredentialHasher(config.devices.secretKey),
        },
        DeviceFirmwareRepository,
        FirmwareImageRepository,
        CampaignRepository,
        JobRepository,
        FirmwareStorage,
        FirmwareSignatureVerifier,
        DownloadTokens,
        JobDelivery,
        ...USE_CASES,
        ...(options.sweep === false ? [] : [JobSweep]),
      ],
      exports: [...USE_CASES, FirmwareStorage],
    };
  }
}

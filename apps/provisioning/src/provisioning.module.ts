import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ConfigModule, type AppConfig } from '#libs/config';
import { DatabaseModule, healthChecksProvider } from '#libs/database';
import { IdentityModule } from '#libs/identity';
import { CredentialChangeNotifier, DevicesModule, MqttCredentialChangeNotifier } from '#libs/devices';
import { DesiredStateNotifier, DesiredStateNotifierModule, DeviceControlModule, MqttDesiredStateNotifier } from '#libs/devices';
import { DownloadUrls, FirmwareModule, MqttOtaJobNotifier, OtaJobNotifier } from '#libs/firmware';
import { HealthController, MqttLink } from '#libs/platform';
import { PrivacyModule, RetentionJob } from '#libs/privacy';
import { TelemetryModule } from '#libs/telemetry';
import { AuthController } from './auth.controller.js';
import { AdminCampaignsController } from './admin-campaigns.controller.js';
import { AdminDevicesController } from './admin-devices.controller.js';
import { AdminFirmwareController } from './admin-firmware.controller.js';
import { AdminPoliciesController } from './admin-policies.controller.js';
import { AdminTelemetryController } from './admin-telemetry.controller.js';
import { DeviceEventsHandler } from './device-events.handler.js';
import { DeviceTelemetryController } from './device-telemetry.controller.js';
import { DevicesController } from './devices.controller.js';
import { FirmwareDownloadController } from './firmware-download.controller.js';
import { ProvisioningDownloadUrls } from './firmware-download-urls.js';
import { FirmwareEventsHandler } from './firmware-events.handler.js';
import { MeController } from './me.controller.js';
import { MePrivacyController } from './me-privacy.controller.js';
import { ModelsController } from './models.controller.js';
import { PairingsController } from './pairings.controller.js';
import { PRIVACY_PARTICIPANTS, PROVISIONING_ENTITIES } from './privacy-entities.js';
import { PrivacyController } from './privacy.controller.js';
import { TelemetryHandler } from './telemetry.handler.js';
import { DeviceStateController } from './device-state.controller.js';
import { StateHandler } from './state.handler.js';

@Module({})
export class ProvisioningModule {
  static forRoot(config: AppConfig, databaseUrl: string, mqtt: MqttLink): DynamicModule {
    return {
      module: ProvisioningModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, PROVISIONING_ENTITIES, config.database.logQueries),
        IdentityModule,
        DevicesModule.forRoot({ provide: CredentialChangeNotifier, useValue: new MqttCredentialChangeNotifier(mqtt) }),
        PrivacyModule,
        ...PRIVACY_PARTICIPANTS,
        FirmwareModule.forRoot({
          notifier: { provide: OtaJobNotifier, useValue: new MqttOtaJobNotifier(mqtt.client) },
          urls: { provide: DownloadUrls, useClass: ProvisioningDownloadUrls },
        }),
        TelemetryModule,
        ScheduleModule.forRoot(),
        DesiredStateNotifierModule.forRoot({ provide: DesiredStateNotifier, useValue: new MqttDesiredStateNotifier(mqtt.client) }),
        DeviceControlModule,
      ],
      controllers: [
        HealthController,
        AuthController,
        MeController,
        MePrivacyController,
        PrivacyController,
        AdminPoliciesController,
        AdminDevicesController,
        PairingsController,
        DevicesController,
        ModelsController,
        DeviceEventsHandler,
        AdminFirmwareController,
        AdminCampaignsController,
        FirmwareDownloadController,
        FirmwareEventsHandler,
        DeviceTelemetryController,
        AdminTelemetryController,
        TelemetryHandler,
        DeviceStateController,
        StateHandler,
      ],
      providers: [{ provide: MqttLink, useValue: mqtt }, healthChecksProvider(mqtt.health), RetentionJob],
    };
  }
}

import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { PrivacyModule } from '#libs/privacy';
import { CredentialChangeNotifier } from './credential-change.notifier.js';
import { CredentialHasher } from './credentials.js';
import { DeviceAccess } from './device-access.js';
import { DeviceHistory } from './device-history.js';
import { DeviceOwnership } from './device-ownership.service.js';
import { DeviceRegistry } from './device-registry.js';
import { PairingService } from './pairing.service.js';

/** The registry, pairing and ownership use-cases for an HTTP app; the app says how brokers hear of credential changes. */
@Module({})
export class DevicesModule {
  static forRoot(notifier: Provider<CredentialChangeNotifier>): DynamicModule {
    return {
      module: DevicesModule,
      imports: [PrivacyModule],
      providers: [
        {
          provide: CredentialHasher,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new CredentialHasher(config.devices.secretKey),
        },
        notifier,
        DeviceRegistry,
        DeviceAccess,
        DeviceHistory,
        PairingService,
        DeviceOwnership,
      ],
      exports: [DeviceRegistry, CredentialHasher, DeviceAccess, PairingService, DeviceOwnership],
    };
  }
}

import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { CredentialChangeNotifier } from './credential-change.notifier.js';
import { CredentialHasher } from './credentials.js';
import { DeviceRegistry } from './device-registry.js';

/** The registry use-cases for an HTTP app; the app says how brokers hear of credential changes. */
@Module({})
export class DevicesModule {
  static forRoot(notifier: Provider<CredentialChangeNotifier>): DynamicModule {
    return {
      module: DevicesModule,
      providers: [
        { provide: CredentialHasher, inject: [AppConfig], useFactory: (config: AppConfig) => new CredentialHasher(config.devices.secretKey) },
        notifier,
        DeviceRegistry,
      ],
      exports: [DeviceRegistry, CredentialHasher],
    };
  }
}

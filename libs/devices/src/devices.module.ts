import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { Clock, IdentityDirectoryModule } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { ApplianceModelRepository } from './appliance-model.repository.js';
import { BindingRepository } from './binding.repository.js';
import { ClaimCodeLockout } from './claim-code-lockout.js';
import { ClaimFailureRepository } from './claim-failure.repository.js';
import { ConfirmPairing } from './confirm-pairing.use-case.js';
import { DefineModel, ReadModel } from './define-model.use-case.js';
import { CredentialChangeNotifier } from './credential-change.notifier.js';
import { CredentialHasher } from './credentials.js';
import { DeviceAccess } from './device-access.js';
import { DeviceHistoryRepository } from './device-history.repository.js';
import { DeviceInvitationRepository } from './device-invitation.repository.js';
import { DeviceHistory } from './device-history.js';
import { DeviceOwnership } from './device-ownership.service.js';
import { DeviceRegistry } from './device-registry.js';
import { DeviceRelease } from './device-release.js';
import { DeviceRepository } from './device.repository.js';
import {
  DeviceControlExport,
  DeviceHistoryExport,
  DeviceInvitationsExport,
  DevicesErasure,
  DevicesExport,
  DevicesSignIn,
  DeviceStateExport,
  PairingsExport,
} from './devices-privacy.js';
import { DesiredStateRepository } from './desired-state.repository.js';
import { DesiredStateNotifier } from './desired-state.notifier.js';
import { DeviceStateAccess } from './device-state-access.js';
import { DesiredStateSweep, ExpireDesiredState } from './expire-desired-state.use-case.js';
import { ReadDeviceState, ReadStateHistory } from './read-device-state.use-case.js';
import { ReceiveStateReport } from './receive-state-report.use-case.js';
import { SetDesiredState } from './set-desired-state.use-case.js';
import { StateMetrics } from './state-metrics.js';
import { ModelCatalog } from './model-catalog.js';
import { PairingRepository } from './pairing.repository.js';
import { ReadPairingStatus } from './read-pairing-status.use-case.js';
import { ReportedPointRepository } from './reported-point.repository.js';
import { ReportedState } from './reported-state.js';
import { StartPairing } from './start-pairing.use-case.js';

const repositories = [
  DeviceRepository,
  BindingRepository,
  PairingRepository,
  ClaimFailureRepository,
  DeviceHistoryRepository,
  ApplianceModelRepository,
  ReportedPointRepository,
  DesiredStateRepository,
  DeviceInvitationRepository,
];

/**
 * The devices context's tables and its door for other contexts (DeviceAccess,
 * ModelCatalog); needs DatabaseModule (global) with DEVICES_ENTITIES.
 */
@Module({
  providers: [...repositories, DeviceAccess, ModelCatalog],
  exports: [...repositories, DeviceAccess, ModelCatalog],
})
export class DeviceAccessModule {}

/**
 * Appliance models and devices' state, for any app: definitions (ModelCatalog,
 * DefineModel, ReadModel) and the reported state held for each owner
 * (ReportedState). Telemetry imports it to judge readings and update `reported`.
 */
@Module({
  imports: [DeviceAccessModule, PrivacyModule],
  providers: [ReportedState, DefineModel, ReadModel],
  exports: [DeviceAccessModule, ReportedState, DefineModel, ReadModel],
})
export class DeviceStateModule {}

/** What devices adds to the privacy rights: export sections (devices, deviceHistory, pairings) and its erasure hook. */
@Module({
  imports: [DeviceAccessModule, PrivacyModule],
  providers: [
    DeviceHistory,
    DeviceRelease,
    DevicesErasure,
    DevicesExport,
    DeviceHistoryExport,
    PairingsExport,
    DeviceStateExport,
    DeviceControlExport,
    DeviceInvitationsExport,
  ],
  exports: [DeviceHistory, DeviceRelease],
})
export class DevicesPrivacyModule {}

/** The registry, pairing and ownership use-cases for an HTTP app; the app says how brokers hear of credential changes. */
@Module({})
export class DevicesModule {
  static forRoot(notifier: Provider<CredentialChangeNotifier>): DynamicModule {
    return {
      module: DevicesModule,
      imports: [PrivacyModule, IdentityDirectoryModule, DeviceAccessModule, DevicesPrivacyModule, DeviceStateModule],
      providers: [
        {
          provide: CredentialHasher,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new CredentialHasher(config.devices.secretKey),
        },
        notifier,
        DeviceRegistry,
        ClaimCodeLockout,
        StartPairing,
        ConfirmPairing,
        ReadPairingStatus,
        DeviceOwnership,
        DevicesSignIn,
      ],
      exports: [
        DeviceRegistry,
        CredentialHasher,
        DeviceAccessModule,
        DeviceStateModule,
        StartPairing,
        ConfirmPairing,
        ReadPairingStatus,
        DeviceOwnership,
      ],
    };
  }
}

/**
 * How an app's devices hear their desired state (MQTT in provisioning).
 * Global, so DeviceRelease (in every app's privacy modules) can take back a
 * pending request when a device leaves its owner.
 */
@Global()
@Module({})
export class DesiredStateNotifierModule {
  static forRoot(notifier: Provider<DesiredStateNotifier>): DynamicModule {
    return { module: DesiredStateNotifierModule, providers: [notifier], exports: [DesiredStateNotifier] };
  }
}

/**
 * Desired state and control for an HTTP app: reading a device's state and
 * history, control requests, devices' state reports and the expiry sweep.
 * Needs DesiredStateNotifierModule.
 */
@Module({
  imports: [DeviceAccessModule, DeviceStateModule, PrivacyModule],
  providers: [
    Clock,
    DeviceStateAccess,
    StateMetrics,
    ReadDeviceState,
    ReadStateHistory,
    SetDesiredState,
    ReceiveStateReport,
    ExpireDesiredState,
    DesiredStateSweep,
  ],
  exports: [ReadDeviceState, ReadStateHistory, SetDesiredState, ReceiveStateReport, ExpireDesiredState, StateMetrics],
})
export class DeviceControlModule {}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

export const PAIRING_STATUS = ['pending', 'bound', 'expired', 'rejected'] as const;
export type PairingStatus = (typeof PAIRING_STATUS)[number];

const NETWORK = { purposes: ['network_setup'], retainFrom: 'endedAt' } as const;

/**
 * One attempt to pair an appliance to an account. The token is held only as a
 * keyed hash; `endedAt` is when the pairing ended or, while it is pending, when
 * it will expire, so the network info sent with it is erased at most 24 hours
 * after the pairing ends, confirmed or not.
 */
@Entity('pairings')
export class PairingEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @DataSubject() @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @PersonalData({ category: 'device_sn', purposes: ['service'], retainFrom: 'endedAt' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  sn!: string | null;
  @Column({ name: 'token_hash', type: 'char', length: 64 }) tokenHash!: string;
  @Column({ type: 'varchar', length: 16, default: 'pending' }) status!: PairingStatus;
  @Column({ name: 'wrong_tokens', type: 'integer', default: 0 }) wrongTokens!: number;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'ended_at', type: 'timestamptz' }) endedAt!: Date;
  @PersonalData({ category: 'phone_model', ...NETWORK })
  @Column({ name: 'phone_model', type: 'varchar', length: 64, nullable: true })
  phoneModel!: string | null;
  @PersonalData({ category: 'os_version', ...NETWORK })
  @Column({ name: 'os_version', type: 'varchar', length: 32, nullable: true })
  osVersion!: string | null;
  @PersonalData({ category: 'router_mac', ...NETWORK })
  @Column({ name: 'router_mac', type: 'varchar', length: 17, nullable: true })
  routerMac!: string | null;
  @PersonalData({ category: 'hidden_ssid_flag', ...NETWORK })
  @Column({ name: 'hidden_ssid', type: 'boolean', nullable: true })
  hiddenSsid!: boolean | null;
  @PersonalData({ category: 'network_id', ...NETWORK })
  @Column({ name: 'network_id', type: 'varchar', length: 64, nullable: true })
  networkId!: string | null;
  @PersonalData({ category: 'wifi_name', ...NETWORK })
  @Column({ name: 'wifi_name', type: 'varchar', length: 64, nullable: true })
  wifiName!: string | null;
}

export const HISTORY_EVENTS = ['bound', 'unbound', 'factory_reset', 'shared', 'unshared', 'owner_left'] as const;
export type HistoryEvent = (typeof HISTORY_EVENTS)[number];

/**
 * A person's device history: when a device came (bound, shared) and when and
 * how it left (unbound, factory_reset, unshared, owner_left). Kept for the
 * former owner and members; the SN linked to a person is erased after a year.
 */
@Entity('device_history')
export class DeviceHistoryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @DataSubject() @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @PersonalData({ category: 'device_sn', purposes: ['service'], retainFrom: 'at' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  sn!: string | null;
  @Column({ type: 'varchar', length: 64 }) model!: string;
  @Column({ type: 'varchar', length: 8 }) role!: 'owner' | 'member';
  @Column({ type: 'varchar', length: 24 }) event!: HistoryEvent;
  @Column({ type: 'timestamptz', default: () => 'now()' }) at!: Date;
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { ConsentService, PersonalDataWriter, registerErasureHook, registerExportSection } from '#libs/privacy';
import { Clock } from './clock.js';
import { LoginSessionEntity } from './login-session.entity.js';
import { OAuthAccountEntity } from './oauth-account.entity.js';
import { UserEntity, type Role } from './user.entity.js';

export interface ProfileView {
  id: string;
  phone: string | null;
  roles: Role[];
  nickname: string | null;
  name: string | null;
  gender: string | null;
  birthDate: string | null;
  location: string | null;
}

export type ProfileChanges = Partial<Pick<ProfileView, 'nickname' | 'name' | 'gender' | 'birthDate' | 'location'>>;

export function toProfileView(user: UserEntity): ProfileView {
  return {
    id: user.id,
    phone: user.phone,
    roles: user.roles,
    nickname: user.nickname,
    name: user.name,
    gender: user.gender,
    birthDate: user.birthDate,
    location: user.location,
  };
}

@Injectable()
export class UsersService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly consents: ConsentService,
    private readonly writer: PersonalDataWriter,
    private readonly clock: Clock,
  ) {}

  /** Identity's part of the rights: the profile in the export; on erasure, logins end and the row is marked deleted. */
  onModuleInit(): void {
    registerExportSection('profile', async (manager, subjectId) => {
      const user = await manager.findOneBy(UserEntity, { id: subjectId });
      return user ? toProfileView(user) : null;
    });
    registerErasureHook({
      name: 'identity',
      onAccountErased: async (manager, subjectId) => {
        const now = this.clock.now();
        await manager.update(UserEntity, { id: subjectId }, { deletedAt: now });
        await manager.update(LoginSessionEntity, { userId: subjectId }, { revokedAt: now, revokedReason: 'account_erased' });
        // The provider identity may then sign up again as a new person, like the phone.
        await manager.delete(OAuthAccountEntity, { userId: subjectId });
      },
    });
  }

  /** Finds the account of a phone or creates it; phones in ADMIN_PHONES get `admin`. Safe under concurrent logins. */
  async findOrCreateByPhone(manager: EntityManager, phone: string): Promise<{ user: UserEntity; created: boolean }> {
    const inserted = await this.writer.creatingSubject(() =>
      manager.createQueryBuilder().insert().into(UserEntity).values({ phone }).orIgnore().returning('id').execute(),
    );
    const created = inserted.raw.length > 0;
    const user = await manager.findOneByOrFail(UserEntity, { phone });
    if (user.deletedAt) throw new DomainError('UNAUTHORIZED', 'This account was deleted');
    if (this.config.auth.adminPhones.includes(phone) && !user.roles.includes('admin')) {
      user.roles = [...user.roles, 'admin'];
      await manager.update(UserEntity, { id: user.id }, { roles: user.roles });
    }
    return { user, created };
  }

  /** An account from a third-party login; its acceptance of `service` is recorded here, then the nickname is written. */
  async createWithoutPhone(manager: EntityManager, nickname: string | null): Promise<UserEntity> {
    const user = await manager.save(manager.create(UserEntity, { phone: null }));
    await this.consents.acceptService(manager, user.id, 'login');
    if (nickname) await this.writer.update(UserEntity, user.id, { id: user.id }, { nickname }, manager);
    return manager.findOneByOrFail(UserEntity, { id: user.id });
  }

  /** Gives a phone the technician role, creating its account when needed; the phone then signs in by OTP as usual. */
  async registerTechnician(phone: string, name: string): Promise<UserEntity> {
    return this.dataSource.transaction(async (manager) => {
      const { user } = await this.findOrCreateByPhone(manager, phone);
      // A staff account starts under the service contract when the admin creates it.
      await this.consents.acceptService(manager, user.id, 'staff_onboarding');
      if (!user.roles.includes('technician')) user.roles = [...user.roles, 'technician'];
      await manager.update(UserEntity, { id: user.id }, { roles: user.roles });
      const { values } = await this.writer.update(UserEntity, user.id, { id: user.id }, { name }, manager);
      user.name = values.name ?? null;
      return user;
    });
  }

  async getProfile(userId: string): Promise<ProfileView> {
    return toProfileView(await this.findActive(userId));
  }

  /** PATCH /v1/me (the right to correction), through the personal-data writer. */
  async updateProfile(userId: string, changes: ProfileChanges): Promise<ProfileView> {
    await this.findActive(userId);
    await this.writer.update<UserEntity>(UserEntity, userId, { id: userId }, changes);
    return this.getProfile(userId);
  }

  private async findActive(userId: string): Promise<UserEntity> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user || user.deletedAt) throw new DomainError('NOT_FOUND', 'Account not found');
    return user;
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { ConsentService, PersonalDataWriter } from '#libs/privacy';
import { UserEntity, type Role } from './user.entity.js';
import { UserRepository } from './user.repository.js';

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

/** Accounts: sign-up by phone or third-party login, technicians, the profile and its correction. */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly consents: ConsentService,
    private readonly writer: PersonalDataWriter,
    private readonly users: UserRepository,
  ) {}

  /** Finds the account of a phone or creates it; phones in ADMIN_PHONES get `admin`. Safe under concurrent logins. */
  async findOrCreateByPhone(manager: EntityManager, phone: string): Promise<{ user: UserEntity; created: boolean }> {
    const created = await this.writer.creatingSubject(() => this.users.insertPhoneIfNew(manager, phone));
    const user = await this.users.findByPhone(manager, phone);
    if (!user) throw new Error('the account of this phone vanished during sign-in');
    if (user.deletedAt) throw new DomainError('UNAUTHORIZED', 'This account was deleted');
    if (this.config.auth.adminPhones.includes(phone) && !user.roles.includes('admin')) {
      user.roles = [...user.roles, 'admin'];
      await this.users.setRoles(manager, user.id, user.roles);
    }
    return { user, created };
  }

  /** An account from a third-party login; its acceptance of `service` is recorded here, then the nickname is written. */
  async createWithoutPhone(manager: EntityManager, nickname: string | null): Promise<UserEntity> {
    const user = await this.users.insertWithoutPhone(manager);
    await this.consents.acceptService(manager, user.id, 'login');
    if (nickname) await this.writer.update(UserEntity, user.id, { id: user.id }, { nickname }, manager);
    return (await this.users.findById(user.id, manager))!;
  }

  /** Gives a phone the technician role, creating its account when needed; the phone then signs in by OTP as usual. */
  async registerTechnician(phone: string, name: string): Promise<UserEntity> {
    return this.dataSource.transaction(async (manager) => {
      const { user } = await this.findOrCreateByPhone(manager, phone);
      // A staff account starts under the service contract when the admin creates it.
      await this.consents.acceptService(manager, user.id, 'staff_onboarding');
      if (!user.roles.includes('technician')) user.roles = [...user.roles, 'technician'];
      await this.users.setRoles(manager, user.id, user.roles);
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
    const user = await this.users.findById(userId);
    if (!user || user.deletedAt) throw new DomainError('NOT_FOUND', 'Account not found');
    return user;
  }
}

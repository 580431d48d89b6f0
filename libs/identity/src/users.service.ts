import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
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
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** Finds the account of a phone or creates it; phones in ADMIN_PHONES get `admin`. Safe under concurrent logins. */
  async findOrCreateByPhone(manager: EntityManager, phone: string): Promise<{ user: UserEntity; created: boolean }> {
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(UserEntity)
      .values({ phone })
      .orIgnore()
      .returning('id')
      .execute();
    const created = inserted.raw.length > 0;
    const user = await manager.findOneByOrFail(UserEntity, { phone });
    if (user.deletedAt) throw new DomainError('UNAUTHORIZED', 'This account was deleted');
    if (this.config.auth.adminPhones.includes(phone) && !user.roles.includes('admin')) {
      user.roles = [...user.roles, 'admin'];
      await manager.update(UserEntity, { id: user.id }, { roles: user.roles });
    }
    return { user, created };
  }

  async createWithoutPhone(manager: EntityManager, nickname: string | null): Promise<UserEntity> {
    return manager.save(manager.create(UserEntity, { phone: null, nickname }));
  }

  /** Gives a phone the technician role, creating its account when needed; the phone then signs in by OTP as usual. */
  async registerTechnician(phone: string, name: string): Promise<UserEntity> {
    return this.dataSource.transaction(async (manager) => {
      const { user } = await this.findOrCreateByPhone(manager, phone);
      if (!user.roles.includes('technician')) user.roles = [...user.roles, 'technician'];
      user.name = name;
      await manager.update(UserEntity, { id: user.id }, { roles: user.roles, name });
      return user;
    });
  }

  async getProfile(userId: string): Promise<ProfileView> {
    return toProfileView(await this.findActive(userId));
  }

  async updateProfile(userId: string, changes: ProfileChanges): Promise<ProfileView> {
    const user = await this.findActive(userId);
    Object.assign(user, changes);
    await this.dataSource.getRepository(UserEntity).save(user);
    return toProfileView(user);
  }

  private async findActive(userId: string): Promise<UserEntity> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user || user.deletedAt) throw new DomainError('NOT_FOUND', 'Account not found');
    return user;
  }
}

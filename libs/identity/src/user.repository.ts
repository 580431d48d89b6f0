import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { UserEntity, type Role } from './user.entity.js';

/** An account that holds the technician role and is not erased: the one statement of that condition. */
const ACTIVE_TECHNICIAN = `'technician' = ANY(roles) AND deleted_at IS NULL`;

/** users: accounts. Personal columns are written through PersonalDataWriter; this repository reads and writes the rest. */
@Injectable()
export class UserRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<UserEntity | null> {
    return manager.findOneBy(UserEntity, { id });
  }

  findByPhone(manager: EntityManager, phone: string): Promise<UserEntity | null> {
    return manager.findOneBy(UserEntity, { phone });
  }

  /** Inserts an account for the phone unless one has it; true when this call created it. Run it inside PersonalDataWriter.creatingSubject. */
  async insertPhoneIfNew(manager: EntityManager, phone: string): Promise<boolean> {
    const inserted = await manager.createQueryBuilder().insert().into(UserEntity).values({ phone }).orIgnore().returning('id').execute();
    return (inserted.raw as unknown[]).length > 0;
  }

  /** An account with no personal value yet (a third-party login): its profile is written through the writer afterwards. */
  insertWithoutPhone(manager: EntityManager): Promise<UserEntity> {
    return manager.save(manager.create(UserEntity, { phone: null }));
  }

  async setRoles(manager: EntityManager, id: string, roles: Role[]): Promise<void> {
    await manager.update(UserEntity, { id }, { roles });
  }

  async markDeleted(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.update(UserEntity, { id }, { deletedAt: at });
  }

  async isActiveTechnician(id: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = (await manager.query(`SELECT 1 FROM users WHERE id = $1 AND ${ACTIVE_TECHNICIAN}`, [id])) as unknown[];
    return rows.length > 0;
  }

  async activeTechnicians(
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Array<{ id: string; name: string | null; phone: string | null }>> {
    return (await manager.query(`SELECT id, name, phone FROM users WHERE ${ACTIVE_TECHNICIAN} ORDER BY name NULLS LAST, id`)) as Array<{
      id: string;
      name: string | null;
      phone: string | null;
    }>;
  }
}

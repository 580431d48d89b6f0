import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntitySubscriberInterface, InsertEvent, ObjectLiteral, UpdateEvent } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';

type Scope = { kind: 'writer' } | { kind: 'creating-subject' };

/** Set while PersonalDataWriter (or an account creation) writes; the guard lets only those writes through. */
export const personalWriteScope = new AsyncLocalStorage<Scope>();

/** Thrown when code writes a tagged value without going through PersonalDataWriter. */
export class PersonalDataBypassError extends Error {
  override name = 'PersonalDataBypassError';
}

/**
 * A TypeORM subscriber on the app's data source: an insert, save or update
 * through TypeORM that sets a non-null value in a tagged column outside
 * PersonalDataWriter fails, so "forgot to check consent" fails in the first
 * test that runs the code. Raw SQL is not seen; only erasure uses it, to set NULL.
 */
@Injectable()
export class PersonalDataGuard implements EntitySubscriberInterface, OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly catalog: PrivacyCatalog,
  ) {}

  onModuleInit(): void {
    if (!this.dataSource.subscribers.some((subscriber) => subscriber instanceof PersonalDataGuard)) this.dataSource.subscribers.push(this);
  }

  beforeInsert(event: InsertEvent<ObjectLiteral>): void {
    this.check(event.metadata.target, event.entity);
  }

  beforeUpdate(event: UpdateEvent<ObjectLiteral>): void {
    this.check(event.metadata.target, event.entity);
  }

  private check(target: unknown, values: ObjectLiteral | undefined): void {
    if (!values || typeof target !== 'function') return;
    const table = this.catalog.tableOf(target);
    if (!table) return;
    const scope = personalWriteScope.getStore();
    if (scope?.kind === 'writer') return;
    for (const column of table.columns) {
      const value = values[column.property];
      if (value === undefined || value === null) continue;
      // Creating the account row starts the service contract: only `service` values may come with it.
      if (scope?.kind === 'creating-subject' && table.subjectIsKey && column.purposes.includes('service')) continue;
      throw new PersonalDataBypassError(
        `${table.table}.${column.column} is personal data: write it with PersonalDataWriter.insert/update(entity, subjectId, ...)`,
      );
    }
  }
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface InvitationRow {
  sn: string;
  owner_id: string;
  phone: string | null;
  created_at: Date;
  expires_at: Date;
}

/** device_invitations: shares by phone waiting for that phone to sign in. Rows are written through PersonalDataWriter. */
@Injectable()
export class DeviceInvitationRepository {
  /** Drops an earlier invitation of this phone to this device, so sharing again renews it instead of adding one. */
  async deleteOne(manager: EntityManager, sn: string, phone: string): Promise<void> {
    await manager.query('DELETE FROM device_invitations WHERE sn = $1 AND phone = $2', [sn, phone]);
  }

  /** Takes (deletes and answers) the live invitations of this phone to devices their owner still holds, oldest first. */
  async takeFor(manager: EntityManager, phone: string, now: Date): Promise<Array<{ sn: string; ownerId: string }>> {
    const rows = (await manager.query(
      `WITH taken AS (
         DELETE FROM device_invitations i USING device_bindings b
          WHERE i.phone = $1 AND i.expires_at > $2 AND b.sn = i.sn AND b.owner_id = i.owner_id
          RETURNING i.sn, i.owner_id, i.created_at)
       SELECT sn, owner_id FROM taken ORDER BY created_at`,
      [phone, now],
    )) as Array<{ sn: string; owner_id: string }>;
    return rows.map((row) => ({ sn: row.sn, ownerId: row.owner_id }));
  }

  /** The owner's invitations still waiting, for the export. */
  async exportOf(manager: EntityManager, ownerId: string): Promise<InvitationRow[]> {
    return (await manager.query(
      'SELECT sn, owner_id, phone, created_at, expires_at FROM device_invitations WHERE owner_id = $1 ORDER BY created_at',
      [ownerId],
    )) as InvitationRow[];
  }

  async deleteOf(manager: EntityManager, ownerId: string): Promise<void> {
    await manager.query('DELETE FROM device_invitations WHERE owner_id = $1', [ownerId]);
  }

  /** Rows whose phone retention erased: nothing left worth keeping. */
  async deleteErased(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM device_invitations WHERE phone IS NULL');
  }
}

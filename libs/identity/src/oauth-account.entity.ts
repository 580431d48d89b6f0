import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('oauth_accounts')
export class OAuthAccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 }) provider!: string;
  @PrimaryColumn({ type: 'varchar', length: 128 }) subject!: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

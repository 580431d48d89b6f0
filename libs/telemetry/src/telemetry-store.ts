import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { ReportedState, type ReportedValues } from '#libs/devices';
import { PersonalDataWriter } from '#libs/privacy';
import { summarise } from './batch-summaries.js';
import { ContributorKeys } from './contributor-key.js';
import { isNumeric, type AcceptedReading } from './reading-rules.js';
import { DuplicateReadingsError, TelemetryIngestRepository, type SeriesInput } from './telemetry-ingest.repository.js';
import { TelemetrySeriesEntity } from './telemetry.entities.js';

/** One message's accepted readings, waiting for its batch. */
export interface TelemetryBatchItem {
  sn: string;
  model: string;
  readings: AcceptedReading[];
  newest: ReportedValues;
}

/** What became of one message's readings: kept for its owner, or not kept because nobody owns the device. */
export interface TelemetryItemResult {
  owned: boolean;
}

/** What a batch did, for the counters. */
export interface TelemetryBatchResult {
  items: TelemetryItemResult[];
  /** Readings that went in. */
  stored: number;
  /** History readings already stored (a message delivered twice). */
  duplicates: number;
  /** History readings of devices nobody owns. */
  notOwned: number;
}

type Grouped = SeriesInput & { numeric: boolean };

/**
 * Stores a batch of telemetry messages in one transaction:
 *  1. the newest reading of each point is merged into the device's
 *     `reported` through the devices door (ReportedState), which also locks
 *     each device's binding for the rest of the transaction and answers its
 *     owner of the moment: an unbind or reset cannot slip in between;
 *  2. readings of `history` points of owned devices are written through the
 *     personal-data writer, one series per (owner, device, point): the
 *     writer takes each owner's shared privacy lock and judges the series
 *     against the owner's live purposes (`service`), and in that same
 *     transaction says whether `product_improvement` is live, which alone
 *     decides whether the numeric readings enter the maker's statistics;
 *  3. the repository writes the series, COPYs the readings and adds the sums
 *     (summed here) to the rollups and statistics. A batch holding a reading
 *     already stored (a redelivered message) runs again inserting with ON
 *     CONFLICT DO NOTHING, and sums only what went in.
 * Readings of a device nobody owns are not kept per device (and, having no
 * one's consent, never reach the statistics).
 */
@Injectable()
export class TelemetryStore {
  private readonly keys: ContributorKeys;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
    private readonly reported: ReportedState,
    private readonly writer: PersonalDataWriter,
    private readonly repository: TelemetryIngestRepository,
  ) {
    this.keys = new ContributorKeys(config.devices.secretKey);
  }

  async storeBatch(items: readonly TelemetryBatchItem[]): Promise<TelemetryBatchResult> {
    try {
      return await this.dataSource.transaction((manager) => this.write(manager, items, 'copy'));
    } catch (error) {
      if (!(error instanceof DuplicateReadingsError)) throw error;
      return this.dataSource.transaction((manager) => this.write(manager, items, 'skip-duplicates'));
    }
  }

  private async write(
    manager: EntityManager,
    items: readonly TelemetryBatchItem[],
    mode: 'copy' | 'skip-duplicates',
  ): Promise<TelemetryBatchResult> {
    const owners = await this.reported.mergeMany(
      items.map((item) => ({ sn: item.sn, values: item.newest })),
      manager,
    );
    const { series, notOwned } = groupBySeries(items, owners);
    let stored = 0;
    let offered = 0;
    await this.writer.insertMany(
      TelemetrySeriesEntity,
      series.map((entry) => ({ subjectId: entry.ownerId, values: { sn: entry.sn, point: entry.point, lastAt: entry.lastAt } })),
      {
        store: async (tx, outcomes) => {
          // The writer dropped the SN when the owner has no live purpose for these readings; the rest is decided here, now.
          const kept = series
            .map((entry, index) => ({
              ...entry,
              contributes: outcomes[index].live.has('product_improvement'),
              keep: Boolean(outcomes[index].values.sn),
            }))
            .filter((entry) => entry.keep);
          for (const entry of kept) offered += entry.readings.length;
          if (kept.length === 0) return;
          const ids = await this.repository.upsertSeries(tx, kept);
          let went: SeriesInput[] = kept;
          if (mode === 'copy') await this.repository.copyReadings(tx, kept, ids);
          else went = await this.repository.insertSkippingDuplicates(tx, kept, ids);
          for (const entry of went) stored += entry.readings.length;
          const summaries = summarise(
            went,
            kept.map((entry) => entry.numeric),
            this.keys,
          );
          await this.repository.addSummaries(
            tx,
            summaries.rollups.map((row) => ({ ...row, seriesId: ids[row.series], ownerId: kept[row.series].ownerId })),
            summaries.contributors,
            summaries.statistics,
          );
        },
      },
      manager,
    );
    return { items: items.map((item) => ({ owned: owners.has(item.sn) })), stored, duplicates: offered - stored, notOwned };
  }
}

/** The history readings of owned devices, one series per (owner, device, point); counts those of devices nobody owns. */
function groupBySeries(items: readonly TelemetryBatchItem[], owners: ReadonlyMap<string, string>): { series: Grouped[]; notOwned: number } {
  const bySn = new Map<string, Map<string, Grouped & { readings: AcceptedReading[] }>>();
  let notOwned = 0;
  for (const item of items) {
    const ownerId = owners.get(item.sn);
    for (const reading of item.readings) {
      if (!reading.point.history) continue;
      if (!ownerId) {
        notOwned += 1;
        continue;
      }
      let points = bySn.get(item.sn);
      if (!points) bySn.set(item.sn, (points = new Map()));
      let entry = points.get(reading.point.id);
      if (!entry) {
        entry = {
          ownerId,
          sn: item.sn,
          point: reading.point.id,
          model: item.model,
          contributes: false,
          lastAt: new Date(0),
          readings: [],
          numeric: isNumeric(reading.point),
        };
        points.set(reading.point.id, entry);
      }
      entry.readings.push(reading);
      if (entry.lastAt.getTime() < reading.at) entry.lastAt = new Date(reading.at);
    }
  }
  return { series: [...bySn.values()].flatMap((points) => [...points.values()]), notOwned };
}

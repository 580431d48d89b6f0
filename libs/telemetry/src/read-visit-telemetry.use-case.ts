import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ModelCatalog, pointOf } from '#libs/devices';
import { OpenVisits } from '#libs/faults';
import { Clock } from '#libs/identity';
import { AccessLogService } from '#libs/privacy';
import { RAW_LIMIT } from './read-device-telemetry.use-case.js';
import { TelemetrySeriesRepository } from './telemetry-series.repository.js';
import type { VisitTelemetryView } from './telemetry.dto.js';

/** How far back a technician sees a device's readings. */
export const VISIT_WINDOW_MS = 24 * 3600_000;

/**
 * GET /v1/tech/visits/:id/telemetry: during the technician's own open visit
 * (faults' OpenVisits decides, 403/404 before anything is read), the last
 * 24 hours of the device's readings held for the owner who asked for the
 * repair, every history point. The read is written to that owner's access
 * log in the reading transaction (purpose `service`: the repair they asked for).
 */
@Injectable()
export class ReadVisitTelemetry {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly visits: OpenVisits,
    private readonly catalog: ModelCatalog,
    private readonly series: TelemetrySeriesRepository,
    private readonly accessLog: AccessLogService,
    private readonly clock: Clock,
  ) {}

  async execute(technicianId: string, repairId: string): Promise<VisitTelemetryView> {
    return this.dataSource.transaction(async (manager) => {
      const visit = await this.visits.of(technicianId, repairId, manager);
      const to = this.clock.now();
      const from = new Date(to.getTime() - VISIT_WINDOW_MS);
      const view: VisitTelemetryView = {
        repairId: visit.repairId,
        sn: visit.sn,
        model: visit.model,
        from: from.toISOString(),
        to: to.toISOString(),
        points: [],
      };
      if (!visit.sn) return view;
      const definition = await this.catalog.definitionOf(visit.model, manager);
      let readings = 0;
      for (const series of await this.series.ofOwner(visit.ownerId, visit.sn, manager)) {
        const point = pointOf(definition, series.point);
        const rows = await this.series.raw(series.id, from, to, RAW_LIMIT, manager);
        if (rows.length === 0) continue;
        readings += rows.length;
        view.points.push({
          point: series.point,
          type: point?.type ?? 'unknown',
          ...(point?.unit ? { unit: point.unit } : {}),
          readings: rows.map((row) => ({ at: row.at.toISOString(), value: row.value })),
        });
      }
      if (readings > 0) {
        await this.accessLog.record(
          {
            subjectId: visit.ownerId,
            actorId: technicianId,
            actorRole: 'technician',
            what: `repair ${visit.repairId}: the appliance's readings of the last 24 hours (${readings})`,
            purpose: 'service',
          },
          manager,
        );
      }
      return view;
    });
  }
}

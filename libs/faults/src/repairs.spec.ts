import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import type { DeviceAccess } from '#libs/devices';
import type { Clock, IdentityDirectory } from '#libs/identity';
import type { AccessLogService, AccessRecord, LawfulBasis, PersonalDataWriter, Purpose } from '#libs/privacy';
import { fakeDataSource } from '../../../test/support/unit.js';
import { AssignRepair } from './assign-repair.use-case.js';
import { CompleteVisit } from './complete-visit.use-case.js';
import type { FaultReportEntity } from './fault-report.entity.js';
import type { FaultReportRepository } from './fault-report.repository.js';
import { OpenRepair } from './open-repair.use-case.js';
import { ReadVisit } from './read-visit.use-case.js';
import type { RepairStatus, RepairTicketEntity } from './repair-ticket.entity.js';
import type { RepairTicketRepository } from './repair-ticket.repository.js';
import { RepairsService } from './repairs.service.js';
import { visitOf } from './visit-access.js';

const NOW = new Date('2026-02-03T04:05:06.000Z');
const OWNER = '00000000-0000-4000-8000-00000000000a';
const TECH = '00000000-0000-4000-8000-00000000000b';
const OTHER_TECH = '00000000-0000-4000-8000-00000000000c';
const ADMIN = '00000000-0000-4000-8000-00000000000d';

function ticket(overrides: Partial<RepairTicketEntity> = {}): RepairTicketEntity {
  return {
    id: '10000000-0000-4000-8000-000000000001',
    ownerId: OWNER,
    sn: 'PX1-0001',
    model: 'PX1',
    description: 'No hot water',
    status: 'assigned',
    technicianId: TECH,
    createdAt: NOW,
    assignedAt: NOW,
    closedAt: null,
    completionNotes: null,
    ...overrides,
  };
}

function report(reportId: string): FaultReportEntity {
  return {
    reportId,
    stored: 'full',
    sn: 'PX1-0001',
    mac: 'AA:BB:CC:DD:EE:01',
    diagnostics: { rssi: -60 },
    ownerId: OWNER,
    model: 'PX1',
    firmware: '1.0.0',
    code: 'E42',
    severity: 'warning',
    occurredAt: NOW,
    receivedAt: NOW,
  };
}

/** Repairs in memory: tickets, their history, the owner's consents, the access log, what the writer was asked. */
function world(options: { live?: Purpose[]; technicians?: string[]; role?: 'owner' | 'member' | null } = {}) {
  const tickets = new Map<string, RepairTicketEntity>([[ticket().id, ticket()]]);
  const statuses: Array<{ repairId: string; status: RepairStatus; technicianId: string | null; actorId: string | null }> = [];
  const logged: AccessRecord[] = [];
  const written: Array<{ subjectId: string; values: Record<string, unknown> }> = [];
  const locked: string[] = [];
  const { dataSource } = fakeDataSource();
  const repository = {
    findById: async (_manager: EntityManager, id: string) => (tickets.has(id) ? { ...tickets.get(id)! } : null),
    lockById: async (_manager: EntityManager, id: string) => {
      locked.push(id);
      return tickets.has(id) ? { ...tickets.get(id)! } : null;
    },
    ofOwner: async (ownerId: string) => [...tickets.values()].filter((row) => row.ownerId === ownerId),
    forDispatch: async () => [...tickets.values()],
    assignedTo: async (_manager: EntityManager, technicianId: string) =>
      [...tickets.values()].filter((row) => row.technicianId === technicianId && row.status === 'assigned'),
    assign: async (_manager: EntityManager, id: string, technicianId: string, at: Date) =>
      void Object.assign(tickets.get(id)!, { status: 'assigned', technicianId, assignedAt: at }),
    complete: async (_manager: EntityManager, id: string, at: Date) =>
      void Object.assign(tickets.get(id)!, { status: 'completed', closedAt: at }),
    recordStatus: async (_manager: EntityManager, entry: (typeof statuses)[number]) => void statuses.push(entry),
    historyOf: async (ids: readonly string[]) =>
      statuses.filter((entry) => ids.includes(entry.repairId)).map((entry, index) => ({ ...entry, id: String(index), at: NOW })),
  } as unknown as RepairTicketRepository;
  const reports = {
    forDevice: async (_manager: EntityManager, sn: string, ownerId: string) =>
      sn === 'PX1-0001' && ownerId === OWNER ? [report('r1'), report('r2')] : [],
  } as unknown as FaultReportRepository;
  const identity = {
    contactOf: async (userId: string) => (userId === OWNER ? { name: 'Mei', phone: '+8613800138000' } : null),
    isActiveTechnician: async (userId: string) => (options.technicians ?? [TECH, OTHER_TECH]).includes(userId),
    activeTechnicians: async () => (options.technicians ?? [TECH, OTHER_TECH]).map((id) => ({ id, name: null, phone: null })),
  } as unknown as IdentityDirectory;
  const basis = { livePurposes: async () => new Set<Purpose>(['service', ...(options.live ?? [])]) } as unknown as LawfulBasis;
  const accessLog = { record: async (entry: AccessRecord) => void logged.push(entry) } as unknown as AccessLogService;
  const writer = {
    insert: async (_entity: unknown, subjectId: string, values: Record<string, unknown>) => {
      written.push({ subjectId, values });
      tickets.set(values.id as string, { ...ticket(), ...values, technicianId: null, assignedAt: null } as RepairTicketEntity);
    },
    update: async (_entity: unknown, subjectId: string, where: { id: string }, values: Record<string, unknown>) => {
      written.push({ subjectId, values });
      Object.assign(tickets.get(where.id)!, values);
    },
  } as unknown as PersonalDataWriter;
  const clock = { now: () => NOW } as Clock;
  const devices = {
    roleOf: async () => (options.role === undefined ? 'owner' : options.role),
    modelOf: async () => 'PX1',
    reportedOf: async () => ({ power: { value: true, at: NOW.toISOString() } }),
    ownerOf: async () => null,
  } as unknown as DeviceAccess;
  return {
    tickets,
    statuses,
    logged,
    written,
    locked,
    read: new ReadVisit(dataSource, repository, reports, identity, basis, accessLog, devices),
    complete: new CompleteVisit(dataSource, repository, writer, clock),
    assign: new AssignRepair(dataSource, repository, identity, clock),
    open: new OpenRepair(dataSource, devices, repository, writer, clock),
    service: new RepairsService(dataSource, repository, identity, accessLog),
  };
}

const ID = ticket().id;

describe('visit access', () => {
  it('is the assigned technician, while the visit is open; 404 when there is no such repair', () => {
    expect(visitOf(ticket(), TECH).id).toBe(ID);
    expect(() => visitOf(ticket(), OTHER_TECH)).toThrow(expect.objectContaining({ code: 'FORBIDDEN', message: 'This visit is not yours' }));
    for (const status of ['open', 'completed', 'cancelled'] as const) {
      expect(() => visitOf(ticket({ status }), TECH)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    }
    expect(() => visitOf(null, TECH)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('ReadVisit', () => {
  it('shows the reports as stored and no contact without repair_contact; logs the ticket and the reports', async () => {
    const w = world({ live: ['fault_diagnostics'] });
    const visit = await w.read.execute(TECH, ID);
    expect(visit).toMatchObject({ device: { sn: 'PX1-0001', model: 'PX1' }, contact: null });
    expect(visit.faults.map((fault) => fault.reportId)).toEqual(['r1', 'r2']);
    expect(w.logged.map(({ what, purpose }) => [what, purpose])).toEqual([
      [`repair ${ID}: ticket and device`, 'service'],
      [`repair ${ID}: 2 fault report(s)`, 'fault_diagnostics'],
    ]);
    expect(w.logged.every((entry) => entry.subjectId === OWNER && entry.actorId === TECH && entry.actorRole === 'technician')).toBe(true);
  });

  it("shows the owner's name and phone under repair_contact, and logs that read under it", async () => {
    const w = world({ live: ['repair_contact'] });
    expect((await w.read.execute(TECH, ID)).contact).toEqual({ name: 'Mei', phone: '+8613800138000' });
    expect(w.logged.at(-1)).toMatchObject({ what: `repair ${ID}: your name and phone`, purpose: 'repair_contact' });
  });

  it('refuses another technician and reads or logs nothing', async () => {
    const w = world({ live: ['repair_contact'] });
    await expect(w.read.execute(OTHER_TECH, ID)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(w.logged).toEqual([]);
  });
});

describe('CompleteVisit', () => {
  it('locks the ticket, closes it with the notes under the owner, records who completed it; then the visit is refused', async () => {
    const w = world();
    const done = await w.complete.execute(TECH, ID, 'Replaced the element');
    expect(done).toMatchObject({ id: ID, status: 'completed', closedAt: NOW.toISOString() });
    expect(w.locked).toEqual([ID]);
    expect(w.written).toEqual([{ subjectId: OWNER, values: { completionNotes: 'Replaced the element' } }]);
    expect(w.statuses).toEqual([{ repairId: ID, status: 'completed', technicianId: TECH, actorId: TECH, at: NOW }]);
    await expect(w.complete.execute(TECH, ID, 'again')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(w.read.execute(TECH, ID)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('without notes writes no personal value; another technician is refused', async () => {
    const w = world();
    await expect(w.complete.execute(OTHER_TECH, ID, 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await w.complete.execute(TECH, ID, '');
    expect(w.written).toEqual([]);
  });
});

describe('AssignRepair and OpenRepair', () => {
  it('assigns to an active technician only, and never a closed repair', async () => {
    const w = world({ technicians: [OTHER_TECH] });
    await expect(w.assign.execute(ADMIN, ID, TECH)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No technician has this id' });
    expect(await w.assign.execute(ADMIN, ID, OTHER_TECH)).toMatchObject({ status: 'assigned', technicianId: OTHER_TECH });
    expect(w.statuses).toEqual([{ repairId: ID, status: 'assigned', technicianId: OTHER_TECH, actorId: ADMIN, at: NOW }]);
    w.tickets.get(ID)!.status = 'completed';
    await expect(w.assign.execute(ADMIN, ID, OTHER_TECH)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(w.assign.execute(ADMIN, '10000000-0000-4000-8000-00000000ffff', OTHER_TECH)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("opens a ticket for the device's owner only, through the writer, with its first history entry", async () => {
    const w = world();
    const opened = await w.open.execute(OWNER, 'PX1-0001', 'Leaks');
    expect(opened).toMatchObject({ status: 'open', sn: 'PX1-0001', model: 'PX1', description: 'Leaks' });
    expect(w.written).toEqual([
      { subjectId: OWNER, values: expect.objectContaining({ sn: 'PX1-0001', description: 'Leaks', status: 'open' }) },
    ]);
    expect(w.statuses).toEqual([{ repairId: opened.id, status: 'open', technicianId: null, actorId: OWNER, at: NOW }]);
    for (const role of ['member', null] as const) {
      await expect(world({ role }).open.execute(OWNER, 'PX1-0001', 'Leaks')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});

describe('RepairsService', () => {
  it('logs each listed ticket to its owner and each listed technician to themself', async () => {
    const w = world();
    await w.service.listForDispatch(ADMIN);
    await w.service.technicians(ADMIN);
    await w.service.openVisits(TECH);
    expect(w.logged.map(({ subjectId, actorId, what }) => [subjectId, actorId, what])).toEqual([
      [OWNER, ADMIN, `repair ${ID}: listed for dispatch`],
      [TECH, ADMIN, 'name and phone: listed for dispatch'],
      [OTHER_TECH, ADMIN, 'name and phone: listed for dispatch'],
      [OWNER, TECH, `repair ${ID}: listed among open visits`],
    ]);
  });

  it("lists the owner's tickets with their history and logs nothing", async () => {
    const w = world();
    await w.complete.execute(TECH, ID, '');
    expect(await w.service.listOwn(OWNER)).toEqual([
      expect.objectContaining({
        id: ID,
        status: 'completed',
        history: [{ status: 'completed', at: NOW.toISOString(), technicianId: TECH }],
      }),
    ]);
    expect(w.logged).toEqual([]);
  });
});

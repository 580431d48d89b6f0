import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { addMember, ownerWithDevice as ownerWithDeviceBuilt } from './factories/bindings.js';
import { setConsent } from './factories/consents.js';
import { newFaultReport, reportingDevice } from './factories/faults.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';

const ADMIN_PHONE = '+8613700000603';

describe('repairs and technician visits', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    admin = await signIn(backend, ADMIN_PHONE);
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
  });

  const faults = (method: string, path: string, user: SignedIn, body?: unknown) =>
    call(method, `${backend.faultsUrl}${path}`, { token: user.accessToken, body });
  const accessLog = async (user: SignedIn) =>
    (await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: user.accessToken })).body as Array<{
      actorId: string;
      actorRole: string;
      what: string;
      purpose: string;
    }>;

  async function newTechnician(name = 'Li Wei'): Promise<SignedIn> {
    const created = await faults('POST', '/v1/admin/technicians', admin, { phone: newPhone(), name });
    expect(created.status).toBe(201);
    return signIn(backend, created.body.phone);
  }

  const ownerWithDevice = (consents: string[] = []) => ownerWithDeviceBuilt(backend, admin.accessToken, consents);

  async function openAndAssign(owner: SignedIn, sn: string, technician: SignedIn): Promise<string> {
    const opened = await faults('POST', '/v1/repairs', owner, { sn, description: 'Leaks under the tank' });
    expect(opened.status).toBe(201);
    const assigned = await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: technician.userId });
    expect(assigned.status).toBe(200);
    return opened.body.id;
  }

  it('an owner opens a ticket and sees it with its history; others cannot open one for the device', async () => {
    const { owner, device } = await ownerWithDevice();
    const member = await signIn(backend);
    await addMember(backend, device.sn, member.userId);

    const opened = await faults('POST', '/v1/repairs', owner, { sn: device.sn, description: 'No hot water' });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      id: expect.any(String),
      status: 'open',
      sn: device.sn,
      model: 'PURIFIER-X1',
      description: 'No hot water',
    });

    const own = await faults('GET', '/v1/repairs', owner);
    expect(own.body).toEqual([
      expect.objectContaining({ id: opened.body.id, status: 'open', history: [expect.objectContaining({ status: 'open' })] }),
    ]);

    for (const user of [member, await signIn(backend)]) {
      const refused = await faults('POST', '/v1/repairs', user, { sn: device.sn, description: 'mine?' });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('FORBIDDEN');
      expect((await faults('GET', '/v1/repairs', user)).body).toEqual([]);
    }
    expect((await faults('POST', '/v1/repairs', owner, { sn: device.sn })).body.error).toBe('VALIDATION_FAILED');
    expect((await faults('POST', '/v1/repairs', owner, { sn: device.sn, description: 'x', urgent: true })).status).toBe(400);
  });

  it('an admin lists open tickets and assigns them; a technician lists own open visits only', async () => {
    const { owner, device } = await ownerWithDevice();
    const alice = await newTechnician('Alice');
    const bob = await newTechnician('Bob');
    const opened = await faults('POST', '/v1/repairs', owner, { sn: device.sn, description: 'Noisy pump' });

    const open = await faults('GET', '/v1/admin/repairs?status=open', admin);
    expect(open.status).toBe(200);
    expect(open.body.map((ticket: { id: string }) => ticket.id)).toContain(opened.body.id);
    expect(open.body.every((ticket: { status: string }) => ticket.status === 'open')).toBe(true);
    expect((await faults('GET', '/v1/admin/repairs?status=whatever', admin)).status).toBe(400);
    expect((await faults('GET', '/v1/admin/repairs?status=open', owner)).status).toBe(403);
    expect((await faults('GET', '/v1/admin/technicians', admin)).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: alice.userId, name: 'Alice' })]),
    );
    // A technician is a person too: the dispatcher's read of their name and phone is in their access log.
    expect(await accessLog(alice)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actorId: admin.userId,
          actorRole: 'admin',
          what: 'name and phone: listed for dispatch',
          purpose: 'service',
        }),
      ]),
    );

    expect((await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: owner.userId })).status).toBe(404);
    expect((await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, owner, { technicianId: alice.userId })).status).toBe(403);
    const assigned = await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: alice.userId });
    expect(assigned.body).toMatchObject({ id: opened.body.id, status: 'assigned', technicianId: alice.userId });
    expect((await faults('GET', '/v1/admin/repairs?status=open', admin)).body.map((ticket: { id: string }) => ticket.id)).not.toContain(
      opened.body.id,
    );

    expect((await faults('GET', '/v1/tech/visits', alice)).body.map((visit: { id: string }) => visit.id)).toEqual([opened.body.id]);
    expect((await faults('GET', '/v1/tech/visits', bob)).body).toEqual([]);
    expect((await faults('GET', '/v1/tech/visits', owner)).status).toBe(403);

    // Reassigning moves the visit.
    await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: bob.userId });
    expect((await faults('GET', '/v1/tech/visits', alice)).body).toEqual([]);
    expect((await faults('GET', `/v1/tech/visits/${opened.body.id}`, alice)).status).toBe(403);
    expect((await faults('GET', `/v1/tech/visits/${opened.body.id}`, bob)).status).toBe(200);
  });

  it("a visit shows the device and its reports as stored; contact only under repair_contact; each read is in the owner's access log", async () => {
    const { owner, device } = await ownerWithDevice(['fault_diagnostics']);
    const technician = await newTechnician();
    const appliance = await reportingDevice(backend, device);
    clients.push(appliance.client);
    const report = newFaultReport({ code: 'E-PUMP' });
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('full');
    const id = await openAndAssign(owner, device.sn, technician);
    const logBefore = (await accessLog(owner)).length;

    const visit = await faults('GET', `/v1/tech/visits/${id}`, technician);
    expect(visit.status).toBe(200);
    expect(visit.body.repair).toMatchObject({ id, status: 'assigned', description: 'Leaks under the tank' });
    expect(visit.body.device).toEqual({ sn: device.sn, model: 'PURIFIER-X1' });
    expect(visit.body.contact).toBeNull();
    expect(visit.body.faults).toEqual([
      expect.objectContaining({ reportId: report.reportId, code: 'E-PUMP', stored: 'full', diagnostics: report.diagnostics }),
    ]);
    const afterFirst = await accessLog(owner);
    expect(afterFirst.length).toBeGreaterThan(logBefore);
    expect(afterFirst.slice(logBefore)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actorId: technician.userId,
          actorRole: 'technician',
          purpose: 'service',
          what: expect.stringContaining(id),
        }),
        expect.objectContaining({ actorId: technician.userId, purpose: 'fault_diagnostics' }),
      ]),
    );
    expect(afterFirst.slice(logBefore).some((entry) => entry.purpose === 'repair_contact')).toBe(false);

    await call('PATCH', `${backend.provisioningUrl}/v1/me`, { token: owner.accessToken, body: { name: 'Wang Fang' } });
    await setConsent(backend, owner, 'repair_contact', true);
    const withContact = await faults('GET', `/v1/tech/visits/${id}`, technician);
    expect(withContact.body.contact).toEqual({ name: 'Wang Fang', phone: owner.phone });
    const afterSecond = await accessLog(owner);
    expect(afterSecond.length).toBeGreaterThan(afterFirst.length);
    expect(
      afterSecond.slice(afterFirst.length).some((entry) => entry.purpose === 'repair_contact' && entry.actorId === technician.userId),
    ).toBe(true);

    // Withdrawing fault_diagnostics: the visit shows no reports any more (they were de-identified).
    await setConsent(backend, owner, 'fault_diagnostics', false);
    expect((await faults('GET', `/v1/tech/visits/${id}`, technician)).body.faults).toEqual([]);
  });

  it('a technician reading a visit that is not theirs gets 403 and nothing is logged', async () => {
    const { owner, device } = await ownerWithDevice(['repair_contact']);
    const assignee = await newTechnician();
    const intruder = await newTechnician();
    const id = await openAndAssign(owner, device.sn, assignee);
    const logBefore = await accessLog(owner);

    const refused = await faults('GET', `/v1/tech/visits/${id}`, intruder);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'FORBIDDEN', message: 'This visit is not yours' });
    expect((await faults('POST', `/v1/tech/visits/${id}/complete`, intruder, { notes: 'done' })).status).toBe(403);
    expect(await accessLog(owner)).toEqual(logBefore);
    expect((await faults('GET', '/v1/tech/visits/00000000-0000-4000-8000-000000000000', intruder)).status).toBe(404);
    expect((await faults('GET', '/v1/tech/visits/not-a-uuid', intruder)).status).toBe(400);
  });

  it("completing a visit ends the technician's access; the ticket keeps its status history", async () => {
    const { owner, device } = await ownerWithDevice();
    const technician = await newTechnician();
    const id = await openAndAssign(owner, device.sn, technician);

    const done = await faults('POST', `/v1/tech/visits/${id}/complete`, technician, { notes: 'Replaced the seal' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id, status: 'completed' });
    const logBefore = await accessLog(owner);
    for (const [method, path] of [
      ['GET', `/v1/tech/visits/${id}`],
      ['POST', `/v1/tech/visits/${id}/complete`],
    ] as const) {
      const refused = await faults(method, path, technician, method === 'POST' ? { notes: 'again' } : undefined);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('FORBIDDEN');
    }
    expect(await accessLog(owner)).toEqual(logBefore);
    expect((await faults('GET', '/v1/tech/visits', technician)).body).toEqual([]);
    expect((await faults('POST', `/v1/admin/repairs/${id}/assign`, admin, { technicianId: technician.userId })).status).toBe(409);

    const [ticket] = (await faults('GET', '/v1/repairs', owner)).body;
    expect(ticket.status).toBe('completed');
    expect(ticket.history.map((entry: { status: string }) => entry.status)).toEqual(['open', 'assigned', 'completed']);
    expect(ticket.history[1].technicianId).toBe(technician.userId);

    const exported = await call('GET', `${backend.provisioningUrl}/v1/me/export`, { token: owner.accessToken });
    expect(exported.body.repairs).toEqual([expect.objectContaining({ id, status: 'completed', history: expect.any(Array) })]);
  });

  it('erasing the account cancels its open visits, so no technician keeps access', async () => {
    const { owner, device } = await ownerWithDevice();
    const technician = await newTechnician();
    const id = await openAndAssign(owner, device.sn, technician);
    expect((await call('DELETE', `${backend.provisioningUrl}/v1/me`, { token: owner.accessToken })).status).toBe(204);
    expect((await faults('GET', `/v1/tech/visits/${id}`, technician)).status).toBe(403);
    expect((await faults('GET', '/v1/tech/visits', technician)).body).toEqual([]);
  });
});

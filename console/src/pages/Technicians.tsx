import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNotice, SuccessNotice, useLoad } from '../components/common';
import type { Technician } from '../model';
import { listTechnicians } from '../technicians';

/** Creating technicians (POST /v1/admin/technicians); they then sign in by OTP with that phone. */
export function Technicians() {
  const technicians = useLoad(listTechnicians, []);
  const [phone, setPhone] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [created, setCreated] = useState<Technician>();
  const [problem, setProblem] = useState('');

  async function create(event: FormEvent) {
    event.preventDefault();
    const cleaned = phone.replace(/[\s-]/g, '');
    if (!/^\+[1-9]\d{7,14}$/.test(cleaned) || !name.trim()) {
      setProblem('Give a name and a phone number in international form, e.g. +8613800138000.');
      return;
    }
    setProblem('');
    setBusy(true);
    setError(undefined);
    try {
      const technician = await api<Technician>('faults', 'POST', '/v1/admin/technicians', { body: { phone: cleaned, name: name.trim() } });
      setCreated(technician);
      setPhone('');
      setName('');
      technicians.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="technicians-title">
      <h1 id="technicians-title">Technicians</h1>
      <form className="panel" onSubmit={create} noValidate aria-labelledby="new-technician">
        <h2 id="new-technician">New technician</h2>
        {created && (
          <SuccessNotice>
            {created.name} can now sign in with {created.phone}. Technician id: <span className="mono">{created.id}</span>
          </SuccessNotice>
        )}
        <ErrorNotice error={error} title="Could not create the technician" />
        <label htmlFor="tech-name">Name</label>
        <input id="tech-name" value={name} autoComplete="off" onChange={(event) => setName(event.target.value)} />
        <label htmlFor="tech-phone">Phone number</label>
        <input
          id="tech-phone"
          type="tel"
          inputMode="tel"
          value={phone}
          autoComplete="off"
          placeholder="+8613800138000"
          onChange={(event) => setPhone(event.target.value)}
        />
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create technician'}
        </button>
      </form>
      <ErrorNotice error={technicians.error} title="Could not load the technicians" />
      {technicians.data && technicians.data.length > 0 && (
        <table className="list">
          <caption>All technicians</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Phone</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {technicians.data.map((technician) => (
              <tr key={technician.id}>
                <td>{technician.name ?? '—'}</td>
                <td>{technician.phone ?? '—'}</td>
                <td className="mono">{technician.id}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

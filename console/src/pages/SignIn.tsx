import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNotice } from '../components/common';
import type { Session } from '../session';

const E164 = /^\+[1-9]\d{7,14}$/;

/** Phone + one-time code, the same flow as the companion app (provisioning's /v1/auth/*). */
export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn(session: Session): void }) {
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'phone' | 'code'>('phone');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState('');

  async function requestCode(event: FormEvent) {
    event.preventDefault();
    const cleaned = phone.replace(/[\s-]/g, '');
    if (!E164.test(cleaned)) {
      setProblem('Enter the phone number in international form, starting with + and the country code, e.g. +8613800138000.');
      return;
    }
    setProblem('');
    setBusy(true);
    setError(undefined);
    try {
      await api('provisioning', 'POST', '/v1/auth/otp', { body: { phone: cleaned }, anonymous: true });
      setPhone(cleaned);
      setStep('code');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  async function signIn(event: FormEvent) {
    event.preventDefault();
    if (!/^\d{6}$/.test(code)) {
      setProblem('The code has 6 digits.');
      return;
    }
    setProblem('');
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<{ accessToken: string; refreshToken: string; user: Session['user'] }>(
        'provisioning',
        'POST',
        '/v1/auth/login',
        {
          body: { phone, code },
          anonymous: true,
        },
      );
      onSignedIn({ ...answer, phone });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <h1>Service console</h1>
      <p className="muted">For technicians and dispatchers. Sign in with your phone number.</p>
      {notice && (
        <div className="notice notice-info" role="status">
          <span aria-hidden="true">ℹ </span>
          {notice}
        </div>
      )}
      <ErrorNotice error={error} title={step === 'phone' ? 'Could not send a code' : 'Could not sign in'} />
      {step === 'phone' ? (
        <form onSubmit={requestCode} noValidate>
          <label htmlFor="phone">Phone number</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            autoComplete="tel"
            inputMode="tel"
            placeholder="+8613800138000"
            value={phone}
            onChange={(event) => setPhone(event.target.value)}
            aria-invalid={!!problem}
            aria-describedby={problem ? 'problem' : undefined}
            required
          />
          {problem && (
            <p id="problem" className="field-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Sending…' : 'Send code'}
          </button>
        </form>
      ) : (
        <form onSubmit={signIn} noValidate>
          <p>
            We sent a 6-digit code to <strong>{phone}</strong>. It is valid for 5 minutes.
          </p>
          <label htmlFor="code">Code</label>
          <input
            id="code"
            name="code"
            type="text"
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={6}
            value={code}
            onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
            aria-invalid={!!problem}
            aria-describedby={problem ? 'problem' : undefined}
            required
          />
          {problem && (
            <p id="problem" className="field-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setStep('phone');
              setCode('');
              setError(undefined);
            }}
          >
            Use another number
          </button>
        </form>
      )}
    </main>
  );
}

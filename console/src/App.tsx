import { useEffect, useState } from 'react';
import { api, whenSessionExpires } from './api';
import { Campaigns } from './pages/Campaigns';
import { Stats } from './pages/Stats';
import { ApplianceStats } from './telemetry/ApplianceStats';
import { SignIn } from './pages/SignIn';
import { Technicians } from './pages/Technicians';
import { Tickets } from './pages/Tickets';
import { Visit } from './pages/Visit';
import { Visits } from './pages/Visits';
import { followLink, href, navigate, useRoute } from './router';
import { hasRole, loadSession, saveSession, type Session } from './session';

interface NavItem {
  to: string;
  label: string;
}

function navFor(session: Session): NavItem[] {
  return [
    ...(hasRole(session, 'technician') ? [{ to: '/visits', label: 'My visits' }] : []),
    ...(hasRole(session, 'admin')
      ? [
          { to: '/tickets', label: 'Open tickets' },
          { to: '/technicians', label: 'Technicians' },
          { to: '/stats', label: 'Statistics' },
          { to: '/campaigns', label: 'Firmware' },
          { to: '/appliance-stats', label: 'Appliance statistics' },
        ]
      : []),
  ];
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState(loadSession);
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    whenSessionExpires(() => {
      saveSession(null);
      setSession(null);
      setNotice('Your session has expired. Please sign in again.');
      navigate('/sign-in', { replace: true });
    });
    // A stored session is checked once at start, so an expired one goes back to sign-in whatever page was asked for.
    if (loadSession()) api('provisioning', 'GET', '/v1/me').catch(() => undefined);
  }, []);

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(next) => {
          saveSession(next);
          setSession(next);
          setNotice(undefined);
          const wanted = route !== '/sign-in' ? route : '/';
          navigate(wanted, { replace: true });
        }}
      />
    );
  }

  const nav = navFor(session);
  const signOut = () => {
    saveSession(null);
    setSession(null);
    setNotice('You have signed out.');
    navigate('/sign-in', { replace: true });
  };

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Service console</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => {
              const current = route === item.to || route.startsWith(`${item.to}/`);
              return (
                <li key={item.to}>
                  <a href={href(item.to)} aria-current={current ? 'page' : undefined} onClick={(event) => followLink(event, item.to)}>
                    {item.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
        <span className="who muted" data-testid="signed-in-as">
          Signed in as {session.phone} · {session.user.roles.filter((role) => role !== 'user').join(', ') || 'no staff role'}
        </span>
        <button type="button" className="secondary sign-out" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">{page(route, session, nav)}</main>
    </>
  );
}

function page(route: string, session: Session, nav: NavItem[]) {
  if (nav.length === 0) {
    return (
      <section aria-labelledby="no-role">
        <h1 id="no-role">No access</h1>
        <div className="notice notice-error" role="alert">
          This console is for technicians and dispatchers. Your account has neither role; ask a dispatcher to add you as a technician.
        </div>
      </section>
    );
  }
  const visit = /^\/visits\/([^/]+)$/.exec(route);
  if (visit && hasRole(session, 'technician')) return <Visit id={decodeURIComponent(visit[1])} />;
  if (route === '/visits' && hasRole(session, 'technician')) return <Visits />;
  if (route === '/tickets' && hasRole(session, 'admin')) return <Tickets />;
  if (route === '/technicians' && hasRole(session, 'admin')) return <Technicians />;
  if (route === '/stats' && hasRole(session, 'admin')) return <Stats />;
  if (route === '/campaigns' && hasRole(session, 'admin')) return <Campaigns />;
  if (route === '/appliance-stats' && hasRole(session, 'admin')) return <ApplianceStats />;
  if (route === '/' || route === '/sign-in') {
    return <Redirect to={nav[0].to} />;
  }
  return (
    <section aria-labelledby="not-found">
      <h1 id="not-found">Page not found</h1>
      <p>There is no such page in the console, or your role cannot open it.</p>
      <p>
        <a href={href(nav[0].to)} onClick={(event) => followLink(event, nav[0].to)}>
          Go to {nav[0].label}
        </a>
      </p>
    </section>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

import { describe, expect, it } from '@jest/globals';
import type { MqttIdentity } from '#libs/mqtt-contract';
import { decideConnect, isFailedGuess, type AccountLookup, type ConnectDecision, type ConnectRequest } from './connect-decision.js';

const monitor: Extract<MqttIdentity, { kind: 'service' }> = { kind: 'service', name: 'monitor', publish: [], subscribe: ['#'] };
const provisioning: Extract<MqttIdentity, { kind: 'service' }> = { kind: 'service', name: 'provisioning', publish: [], subscribe: [] };

const device = (overrides: Partial<ConnectRequest> = {}): ConnectRequest => ({
  clientId: 'SN-0001',
  username: 'SN-0001',
  hasPassword: true,
  configured: undefined,
  throttled: false,
  ...overrides,
});
const service = (overrides: Partial<ConnectRequest> = {}): ConnectRequest =>
  device({ clientId: 'svc-provisioning-1a2b', username: 'svc-provisioning', configured: 'service', ...overrides });
const operator = (overrides: Partial<ConnectRequest> = {}): ConnectRequest =>
  device({ clientId: 'monitor-1', username: 'monitor', configured: 'operator', ...overrides });

const found = (secretMatches: boolean): AccountLookup => ({ account: 'device', found: true, secretMatches });
const notFound: AccountLookup = { account: 'device', found: false };
const configured = (identity?: Extract<MqttIdentity, { kind: 'service' }>): AccountLookup => ({ account: 'configured', identity });
const failed = (reason: 'unavailable' | 'internal'): AccountLookup => ({ account: 'failed', reason });

const refused = (reason: string, code: number): ConnectDecision => ({ refuse: reason, code }) as ConnectDecision;

describe('decideConnect', () => {
  it.each<[string, ConnectRequest, AccountLookup | undefined, ConnectDecision]>([
    // before any lookup
    ['a device asks for its registry entry', device(), undefined, { lookup: 'device' }],
    ['a service asks for its configured account', service(), undefined, { lookup: 'configured' }],
    ['an operator asks for its configured account', operator(), undefined, { lookup: 'configured' }],
    ['no username', device({ username: undefined }), undefined, refused('anonymous', 5)],
    ['an empty username', device({ username: '' }), undefined, refused('anonymous', 5)],
    ['no password', device({ hasPassword: false }), undefined, refused('anonymous', 5)],
    ['a device whose clientId is not its SN', device({ clientId: 'SN-0001-x' }), undefined, refused('client_id_mismatch', 2)],
    ['a malformed SN', device({ clientId: 'a/b#', username: 'a/b#' }), undefined, refused('unknown_or_revoked', 4)],
    ['a too short SN', device({ clientId: 'ab', username: 'ab' }), undefined, refused('unknown_or_revoked', 4)],
    [
      'a service whose clientId does not start with its username',
      service({ clientId: 'other' }),
      undefined,
      refused('bad_service_password', 4),
    ],
    [
      'an operator whose clientId does not start with its username',
      operator({ clientId: 'x-monitor' }),
      configured(monitor),
      refused('bad_service_password', 4),
    ],
    // throttled: refused whatever the credentials, before anything else
    ['a throttled device with the right secret', device({ throttled: true }), found(true), refused('throttled', 5)],
    ['a throttled device', device({ throttled: true }), undefined, refused('throttled', 5)],
    ['a throttled anonymous client', device({ throttled: true, username: undefined }), undefined, refused('throttled', 5)],
    ['a throttled operator', operator({ throttled: true }), configured(monitor), refused('throttled', 5)],
    // after the lookup
    ['a device with the right secret', device(), found(true), { accept: 'device', identity: { kind: 'device', sn: 'SN-0001' } }],
    ['a device with a wrong secret', device(), found(false), refused('bad_secret', 4)],
    ['an unknown or revoked SN', device(), notFound, refused('unknown_or_revoked', 4)],
    ['a device while the registry cannot be read', device(), failed('unavailable'), refused('unavailable', 3)],
    ['a device answered with an account lookup', device(), configured(monitor), refused('unknown_or_revoked', 4)],
    ['a service with its password', service(), configured(provisioning), { accept: 'service', identity: provisioning }],
    ['an operator with its password', operator(), configured(monitor), { accept: 'operator', identity: monitor }],
    ['a service with a wrong password', service(), configured(undefined), refused('bad_service_password', 4)],
    ['a service answered with a device lookup', service(), found(true), refused('bad_service_password', 4)],
    ['a password check that failed', operator(), failed('internal'), refused('internal', 3)],
  ])('%s', (_label, request, lookup, expected) => {
    expect(decideConnect(request, lookup)).toEqual(expected);
  });
});

describe('isFailedGuess', () => {
  it.each([
    ['bad_secret', true],
    ['unknown_or_revoked', true],
    ['bad_service_password', true],
    ['anonymous', false],
    ['client_id_mismatch', false],
    ['throttled', false],
    ['unavailable', false],
    ['internal', false],
  ] as const)('%s: %s', (reason, expected) => expect(isFailedGuess(reason)).toBe(expected));
});

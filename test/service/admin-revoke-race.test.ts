/**
 * Two admins revoking each other's keys at the same instant (issue 14, low): the route read
 * the key list, found two active admin:all keys, and revoked; two such requests could both
 * pass the check and leave no admin key. The check and the revocation are now one
 * transaction holding the admin keys' rows (SELECT … FOR UPDATE), so one of the two is
 * refused (409 last_admin_key, or 401 when its own key was revoked before it was read) and
 * exactly one admin key remains, round after round. Real PostgreSQL (a database of its own)
 * behind the fastify service on a loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/api-client.js';
import { startTestService, type TestService } from '../support/service.js';

const ROUNDS = 25;

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ workers: 0 });
});

afterAll(async () => {
  await svc?.close();
});

/** The live admin:all keys, read from the database. */
async function activeAdmins(): Promise<string[]> {
  const keys = await svc.store.keys.list();
  return keys.filter((k) => k.revoked_at === null && k.scopes.includes('admin:all')).map((k) => k.id);
}

describe('DELETE /api-keys/{id} between the last two admin keys', () => {
  it(`never leaves no admin:all key (${ROUNDS} rounds of two simultaneous cross revocations)`, async () => {
    // Round by round: the admin key that survived and a new one revoke each other.
    let survivor = await svc.store.keys.create({ name: 'admin 0', scopes: ['admin:all'] });
    const outcomes = new Map<string, number>();
    for (let round = 1; round <= ROUNDS; round++) {
      const fresh = await svc.store.keys.create({ name: `admin ${round}`, scopes: ['admin:all'] });
      expect(await activeAdmins()).toHaveLength(2);
      const [first, second] = await Promise.all([
        call(svc.api, 'DELETE', `/api-keys/${fresh.id}`, { key: survivor.key }),
        call(svc.api, 'DELETE', `/api-keys/${survivor.id}`, { key: fresh.key }),
      ]);
      const statuses = [first.status, second.status].sort();
      const seen = statuses.join(' ');
      outcomes.set(seen, (outcomes.get(seen) ?? 0) + 1);
      // One revocation went through; the other was refused as the last admin, or came too late.
      expect(['200 409', '200 401'], `round ${round}: ${first.text} / ${second.text}`).toContain(seen);
      const left = await activeAdmins();
      expect(left, `round ${round}`).toHaveLength(1);
      survivor = left[0] === fresh.id ? fresh : survivor;
      // The remaining key still reaches the admin routes.
      expect((await call(svc.api, 'GET', '/api-keys', { key: survivor.key })).status).toBe(200);
    }
    // Both requests were read before either committed in at least one round (else the test proves little).
    expect(outcomes.get('200 409') ?? 0).toBeGreaterThan(0);
  });
});

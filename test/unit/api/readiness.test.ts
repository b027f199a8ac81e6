import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiWithNothingBehindIt, baseUrl, type RunningApi } from './unreachable-api.js';

/**
 * /readyz is open (load balancers and compose's healthcheck carry no credentials), so a stranger gets
 * the status words only; the errors, which name internal hosts and database users, need the API's
 * credentials. Over real HTTP, against the API whose PostgreSQL and Temporal are closed ports.
 */
const TOKEN = 'readiness-test-token';

describe('/readyz', () => {
  let guarded: RunningApi;
  let open: RunningApi;
  beforeAll(async () => {
    [guarded, open] = await Promise.all([apiWithNothingBehindIt({ token: TOKEN }), apiWithNothingBehindIt()]);
    await Promise.all([
      guarded.app.listen({ port: 0, host: '127.0.0.1' }),
      open.app.listen({ port: 0, host: '127.0.0.1' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([guarded?.close(), open?.close()]);
  });

  const readyz = async (api: RunningApi, authorization?: string) => {
    const res = await fetch(`${baseUrl(api.app)}/readyz`, {
      headers: authorization ? { authorization } : {},
    });
    return { status: res.status, text: await res.text() };
  };

  it.each([
    ['no credentials', undefined],
    ['a wrong token', 'Bearer not-the-token'],
  ])('tells a caller with %s only which dependency is unreachable', async (_, authorization) => {
    const res = await readyz(guarded, authorization);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toEqual({
      status: 'not ready',
      temporal: 'unreachable',
      postgres: 'unreachable',
    });
    expect(res.text).not.toContain('127.0.0.1');
  });

  it('tells a caller with the credentials what failed', async () => {
    const res = await readyz(guarded, `Bearer ${TOKEN}`);
    expect(res.status).toBe(503);
    const body = JSON.parse(res.text);
    expect(body.status).toBe('not ready');
    expect(body.postgres).toBe(`unreachable: connect ECONNREFUSED ${guarded.postgresAddress}`);
    expect(body.temporal).toMatch(/^unreachable: \S/);
  });

  it('tells everyone what failed where no credentials are configured (development: every route is open)', async () => {
    const body = JSON.parse((await readyz(open)).text);
    expect(body.postgres).toBe(`unreachable: connect ECONNREFUSED ${open.postgresAddress}`);
  });
});

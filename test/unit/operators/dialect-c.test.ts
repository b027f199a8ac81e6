import { describe, expect, it } from 'vitest';
import { TourValidationError } from '../../../src/domain/errors.js';
import {
  cAuthHeaders,
  createDialectCAdapter,
  mapCList,
  mapCShow,
  parseDurationDesc,
  signC,
} from '../../../src/operators/dialect-c.js';
import { OperatorApplicationError, OperatorPayloadError } from '../../../src/operators/errors.js';
import { fakeHttp, fixtureText } from './fixtures.js';

const OP = 'city-tours';
const creds = { channelId: 3930, marketplaceId: 0, apiKey: 'test-api-key' };

describe('dialect C signature', () => {
  it('matches a known vector (openssl dgst -sha256 -hmac test-api-key -binary | base64)', () => {
    expect(signC(creds, 'GET', 1700000000, '/c/tour/show.xml?id=12')).toBe(
      'RMLwZk4HVo+IrDOk1QUWwCA9p+DbridcBZgSb0JL684=',
    );
  });

  it('sends the TourCMS Authorization header and a Date for the same instant', () => {
    expect(cAuthHeaders(creds, 1700000000, '/c/tour/show.xml?id=12')).toEqual({
      authorization: 'TourCMS 3930:0:RMLwZk4HVo+IrDOk1QUWwCA9p+DbridcBZgSb0JL684=',
      date: 'Tue, 14 Nov 2023 22:13:20 GMT',
    });
  });
});

describe('dialect C mapping (recorded XML)', () => {
  it('lists every tour id, keeping ids as text, with no content or dates', () => {
    const page = mapCList(fixtureText('c-list.xml'));
    expect(page.next).toBeUndefined();
    expect(page.deltaMark).toBeUndefined();
    expect(page.entries).toEqual([
      { kind: 'active', externalId: '007', sourceUpdatedAt: null },
      { kind: 'active', externalId: '12', sourceUpdatedAt: null },
      {
        kind: 'invalid',
        externalId: '(missing id at position 2)',
        error: 'tour at position 2 of list.xml has no tour_id',
      },
    ]);
  });

  it('handles a list with a single <tour>', () => {
    expect(mapCList(fixtureText('c-list-single.xml')).entries).toEqual([
      { kind: 'active', externalId: '42', sourceUpdatedAt: null },
    ]);
  });

  it('maps show.xml, decoding entities and keeping CDATA as text', () => {
    const result = mapCShow(OP, fixtureText('c-show.xml'), '12');
    expect(result).toEqual({
      kind: 'found',
      tour: {
        operatorId: OP,
        externalId: '12',
        title: 'Bars & Bites <after dark>',
        description: '<p>Four bars, eight tapas &amp; a guide who knows them all.</p>',
        durationMinutes: 210,
        price: { amount: 55, currency: 'EUR' },
        location: { name: 'Sevilla – Santa Cruz', country: 'ES', latitude: 37.3861, longitude: -5.9915 },
        images: [
          { url: 'https://img.example.com/c/12-a-large.jpg', caption: 'Tapas "de la casa"' },
          { url: 'https://img.example.com/c/12-b.jpg', caption: null },
        ],
        sourceUpdatedAt: null,
      },
    });
  });

  it('handles a single <image> and numeric <duration>', () => {
    const result = mapCShow(OP, fixtureText('c-show-single-image.xml'), '007');
    expect(result.kind === 'found' && result.tour).toMatchObject({
      externalId: '007',
      title: 'Old Town & Castle',
      durationMinutes: 120,
      price: null,
      images: [{ url: 'https://img.example.com/c/7.jpg', caption: null }],
    });
  });

  it('reads prose durations', () => {
    expect(parseDurationDesc('90 minutes')).toBe(90);
    expect(parseDurationDesc('2h 30m')).toBe(150);
    expect(parseDurationDesc('1.5 hours')).toBe(90);
    expect(parseDurationDesc('1 day')).toBe(1440);
    expect(parseDurationDesc('all afternoon')).toBeUndefined();
  });

  it('turns <error> other than OK into a typed error, and NOT FOUND into not-found', () => {
    expect(() => mapCList(fixtureText('c-error.xml'))).toThrow(OperatorApplicationError);
    expect(() => mapCList(fixtureText('c-error.xml'))).toThrow(
      expect.objectContaining({ code: 'FAIL_SIGNATURE', retryable: false, type: 'OperatorApplicationError' }),
    );
    expect(mapCShow(OP, fixtureText('c-notfound.xml'), '999')).toEqual({ kind: 'not-found' });
  });

  it('rejects malformed XML as a payload error with an excerpt, and invalid tours as validation errors', () => {
    expect(() => mapCList('<response><error>OK</error><tour>')).toThrow(OperatorPayloadError);
    const bad =
      '<response><error>OK</error><tour><tour_id>9</tour_id><tour_name>X</tour_name><from_price>ten</from_price><sale_currency>EUR</sale_currency></tour></response>';
    expect(() => mapCShow(OP, bad, '9')).toThrow(TourValidationError);
    expect(() => mapCShow(OP, bad, '9')).toThrow(/field "price.amount"/);
  });

  it('bounds entity expansion and refuses external entities', () => {
    const many = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><response><error>OK</error><tour><tour_id>${'&a;'.repeat(2000)}</tour_id></tour></response>`;
    expect(() => mapCList(many)).toThrow(OperatorPayloadError);
    const external =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><response><error>OK</error><tour><tour_id>&x;</tour_id></tour></response>';
    expect(() => mapCList(external)).toThrow(/External entities are not supported/);
  });
});

describe('dialect C adapter requests', () => {
  it('signs exactly the path it requests', async () => {
    const http = fakeHttp((path) => ({
      body: path.startsWith('/c/tours') ? fixtureText('c-list-single.xml') : fixtureText('c-show.xml'),
    }));
    const adapter = createDialectCAdapter({ ...creds, operatorId: OP, http, now: () => 1700000000 });
    expect((await adapter.listPage(undefined, { mode: 'full' })).entries).toHaveLength(1);
    expect((await adapter.fetchTour('12')).kind).toBe('found');
    expect(http.calls.map((c) => c.path)).toEqual(['/c/tours/list.xml', '/c/tour/show.xml?id=12']);
    expect(http.calls[1].headers.authorization).toBe(
      'TourCMS 3930:0:RMLwZk4HVo+IrDOk1QUWwCA9p+DbridcBZgSb0JL684=',
    );
  });
});

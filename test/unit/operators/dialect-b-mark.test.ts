import { afterAll, describe, expect, it } from 'vitest';
import { createDialectBAdapter } from '../../../src/operators/dialect-b.js';
import { createOperatorHttp, type OperatorHttp } from '../../../src/operators/http.js';
import type { ListEntry, ListOptions, ListPage } from '../../../src/operators/types.js';
import { startSimulator } from '../../../tooling/simulator/server.js';

const MINUTE = 60_000;
const OP = 'slow-b';
const PAGE_SIZE = 10;
/** Before every base tour's dateUpdated: the delta scan lists the whole catalog, 30 pages. */
const PRIOR_MARK = '2023-12-31T00:00:00.000Z';

/**
 * Issue 14, "no change is skipped by the delta mark": the real adapter against the simulator,
 * with the operator's clock moved on minutes between pages, as in a long scan.
 */
describe('dialect B delta mark over a slow scan', () => {
  const started = startSimulator({
    port: 0,
    operators: [{ id: OP, dialect: 'B', tourCount: 300, imagesPerTour: { min: 0, max: 1 } }],
  });
  afterAll(async () => (await started).close());

  /** The real HTTP module, remembering each response's Date as the adapter saw it. */
  function recordingHttp(baseUrl: string): OperatorHttp & { serverDates: (string | undefined)[] } {
    const http = createOperatorHttp({ baseUrl });
    const serverDates: (string | undefined)[] = [];
    return {
      ...http,
      serverDates,
      async getJson(path, options) {
        const res = await http.getJson(path, options);
        serverDates.push(res.serverDate);
        return res;
      },
    };
  }

  it('stores the operator time at scan start, so a page-1 change made mid-scan is listed next time', async () => {
    const sim = await started;
    const op = sim.operator(OP);
    const http = recordingHttp(op.baseUrl);
    const adapter = createDialectBAdapter({ operatorId: OP, http, apiKey: op.credentials.apiKey });
    const delta: ListOptions = { mode: 'delta', since: PRIOR_MARK, pageSize: PAGE_SIZE };
    // The operator's clock runs an hour ahead of ours: the mark must come from its Date header.
    sim.advanceClock(60 * MINUTE);
    const scanStart = sim.time().getTime();

    const pages: ListPage[] = [await adapter.listPage(undefined, delta)];
    const firstPageTour = pages[0].entries[2].externalId;
    sim.advanceClock(3 * MINUTE);
    const earlyChange = op.change(firstPageTour).updatedAt;

    const lastCode = [...op.activeCodes()].sort().at(-1)!;
    let lateChange = 0;
    while (pages.at(-1)!.next !== undefined) {
      sim.advanceClock(MINUTE);
      // Page 20 of 30: the last tour by code is still ahead of the scan, and is listed changed.
      if (pages.length === 20) lateChange = op.change(lastCode).updatedAt;
      pages.push(await adapter.listPage(pages.at(-1)!.next, delta));
    }
    expect(pages.length).toBeGreaterThanOrEqual(30);
    const listed = pages.flatMap((p) => p.entries);
    expect(new Set(listed.map((e) => e.externalId)).size).toBe(300);
    expect(updatedAt(find(listed, lastCode))).toBe(lateChange);

    const mark = pages.at(-1)!.deltaMark!;
    // The first page's Date header (1-second resolution), carried unchanged to the last page…
    expect(mark).toBe(http.serverDates[0]);
    expect(new Set(pages.map((p) => p.deltaMark))).toEqual(new Set([mark]));
    expect(Date.parse(mark)).toBeGreaterThanOrEqual(Math.floor(scanStart / 1000) * 1000);
    expect(Date.parse(mark)).toBeLessThan(earlyChange);
    // …not the greatest dateUpdated the scan saw, which would hide the page-1 change for good.
    expect(Math.max(...listed.map(updatedAt))).toBe(lateChange);

    sim.advanceClock(MINUTE);
    const next = await listAll(adapter, { mode: 'delta', since: mark, pageSize: PAGE_SIZE });
    expect(next.map((e) => e.externalId)).toContain(firstPageTour);
    expect(updatedAt(find(next, firstPageTour))).toBe(earlyChange);
  });
});

const find = (entries: ListEntry[], code: string) => entries.find((e) => e.externalId === code);

/** The operator's dateUpdated of a listed tour, in ms. */
function updatedAt(entry: ListEntry | undefined): number {
  return entry?.kind === 'active' && entry.sourceUpdatedAt ? Date.parse(entry.sourceUpdatedAt) : NaN;
}

async function listAll(
  adapter: ReturnType<typeof createDialectBAdapter>,
  options: ListOptions,
): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  let position: string | undefined;
  do {
    const page = await adapter.listPage(position, options);
    entries.push(...page.entries);
    position = page.next;
  } while (position !== undefined);
  return entries;
}

import { describe, expect, it } from 'vitest';
import { currentWindow, freeRoom, grantRoom, roomWindow } from '../../../src/workflows/room.js';
import { newImportState } from '../../../src/workflows/import-operator/run.js';
import { testSettings } from '../../helpers/import-state.js';
import type { CarriedState } from '../../../src/workflows/types.js';

function importState(o: { listingDone: boolean; queued: number }): CarriedState {
  const state = newImportState(1, testSettings({ window: 20 }));
  state.listingDone = o.listingDone;
  state.progress.queued = o.queued;
  return state;
}

const ask = (importRunId: number, tours: number, untilMs = 10_000) => ({
  importRunId,
  operatorId: `op${importRunId}`,
  tours,
  untilMs,
});

describe('making room for smaller imports', () => {
  it('narrows to a fifth of the window, at least one child', () => {
    expect([roomWindow(20), roomWindow(7), roomWindow(4), roomWindow(1)]).toEqual([4, 1, 1, 1]);
  });

  it('an import still listing makes room for any one-page import', () => {
    const big = importState({ listingDone: false, queued: 3 });
    expect(grantRoom(big, ask(2, 500), 0)).toBe(true);
    expect(currentWindow(big, 0)).toBe(4);
  });

  it('an import with fewer or as many tours left as the asker keeps its window', () => {
    const listed = importState({ listingDone: true, queued: 100 });
    expect(grantRoom(listed, ask(2, 100), 0)).toBe(false);
    expect(grantRoom(listed, ask(3, 150), 0)).toBe(false);
    expect(currentWindow(listed, 0)).toBe(20);
    expect(grantRoom(listed, ask(4, 99), 0)).toBe(true);
    expect(currentWindow(listed, 0)).toBe(4);
  });

  it('widens again when every asker has finished or its request has lapsed', () => {
    const big = importState({ listingDone: false, queued: 0 });
    grantRoom(big, ask(2, 10, 5_000), 0);
    grantRoom(big, ask(3, 10, 9_000), 0);
    freeRoom(big, 3);
    expect(currentWindow(big, 4_999)).toBe(4);
    expect(currentWindow(big, 5_000)).toBe(20); // import 2 never said it finished: its lease ran out
    freeRoom(big, 2);
    expect(big.makingRoomFor).toEqual({});
    freeRoom(big, 7); // unknown or already freed: nothing to do
    expect(currentWindow(big, 0)).toBe(20);
  });

  it('drops lapsed requests when a new one arrives', () => {
    const big = importState({ listingDone: false, queued: 0 });
    grantRoom(big, ask(2, 10, 5_000), 0);
    grantRoom(big, ask(3, 10, 20_000), 6_000);
    expect(big.makingRoomFor).toEqual({ 3: 20_000 });
  });
});

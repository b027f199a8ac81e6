import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BASELINE_MB,
  BYTES_PER_PIXEL,
  DEFAULT_MEMORY_MB,
  PER_RESIZE_MB,
  readHostLimits,
  sizeImageWorker,
} from '../../../src/workers/image-sizing.js';

const MB = 2 ** 20;
const pixelsFor = (memoryMb: number) => Math.floor(((memoryMb - BASELINE_MB) * MB) / BYTES_PER_PIXEL);

describe('sizeImageWorker', () => {
  it('gives two resizes and two pool threads per core, the pool never below libuv’s 4', () => {
    expect(sizeImageWorker({ cores: 1 })).toMatchObject({ cores: 1, maxResizes: 2, threadPoolSize: 4 });
    expect(sizeImageWorker({ cores: 2 })).toMatchObject({ cores: 2, maxResizes: 4, threadPoolSize: 4 });
    expect(sizeImageWorker({ cores: 16 })).toMatchObject({ cores: 16, maxResizes: 32, threadPoolSize: 32 });
  });

  it('counts the cgroup CPU quota, rounded up, when it is below the CPUs', () => {
    expect(sizeImageWorker({ cores: 16, cpuMax: '200000 100000\n' })).toMatchObject({
      cores: 2,
      maxResizes: 4,
    });
    expect(sizeImageWorker({ cores: 16, cpuMax: '150000 100000' }).cores).toBe(2);
    expect(sizeImageWorker({ cores: 16, cpuMax: '50000 100000' }).cores).toBe(1);
    expect(sizeImageWorker({ cores: 4, cpuMax: '800000 100000' }).cores).toBe(4);
    expect(sizeImageWorker({ cores: 8, cpuMax: 'max 100000\n' }).cores).toBe(8);
  });

  it('lets explicit settings win, and sizes the pool for explicit resizes', () => {
    expect(sizeImageWorker({ cores: 16 }, { maxResizes: 3, threadPoolSize: 5 })).toMatchObject({
      maxResizes: 3,
      threadPoolSize: 5,
    });
    // More permits than pool threads would only queue for a thread.
    expect(sizeImageWorker({ cores: 2 }, { maxResizes: 6 }).threadPoolSize).toBe(6);
  });

  it('budgets decoded pixels from IMAGE_WORKER_MEMORY_MB, else the cgroup memory limit, else the default', () => {
    const cgroup2g = String(2048 * MB);
    expect(sizeImageWorker({ cores: 2, memoryMax: cgroup2g }, { memoryMb: 1024 })).toMatchObject({
      memoryMb: 1024,
      memoryFrom: 'IMAGE_WORKER_MEMORY_MB',
      pixelBudget: pixelsFor(1024),
    });
    expect(sizeImageWorker({ cores: 2, memoryMax: `${cgroup2g}\n` })).toMatchObject({
      memoryMb: 2048,
      memoryFrom: 'cgroup',
      pixelBudget: pixelsFor(2048),
    });
    expect(sizeImageWorker({ cores: 2, memoryMax: 'max\n' })).toMatchObject({
      memoryMb: DEFAULT_MEMORY_MB,
      memoryFrom: 'default',
    });
  });

  it('keeps the default within 512 MB by its own estimate, whatever the core count and image size', () => {
    for (const cores of [1, 2, 16, 128])
      for (const pixels of [24_000_000, 1_700_000]) {
        const s = sizeImageWorker({ cores });
        const cost = pixels + s.pixelsPerResize;
        const atOnce = Math.min(s.maxResizes, Math.max(1, Math.floor(s.pixelBudget / cost)));
        const estimateMb = BASELINE_MB + atOnce * ((pixels * BYTES_PER_PIXEL) / MB + PER_RESIZE_MB);
        expect(estimateMb).toBeLessThanOrEqual(DEFAULT_MEMORY_MB);
        if (pixels === 24_000_000) expect(atOnce).toBeGreaterThan(1); // not one at a time either
      }
  });

  it('leaves no budget (one image at a time) when the memory is all baseline', () => {
    expect(sizeImageWorker({ cores: 4 }, { memoryMb: 200 }).pixelBudget).toBe(0);
  });
});

describe('readHostLimits', () => {
  it('reads cpu.max and memory.max from a cgroup v2 folder, and nothing where there is none', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
    try {
      writeFileSync(path.join(dir, 'cpu.max'), '300000 100000\n');
      writeFileSync(path.join(dir, 'memory.max'), `${1024 * MB}\n`);
      const host = readHostLimits(dir);
      expect(host.cores).toBe(os.availableParallelism());
      expect(sizeImageWorker({ ...host, cores: 8 })).toMatchObject({ cores: 3, memoryMb: 1024 });
      expect(readHostLimits(path.join(dir, 'absent'))).toEqual({
        cores: os.availableParallelism(),
        cpuMax: undefined,
        memoryMax: undefined,
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

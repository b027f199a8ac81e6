import { describe, expect, it } from 'vitest';
import { sizeTourWorker, WORKFLOW_THREADS_MAX } from '../../../src/workers/tour-sizing.js';

describe('sizeTourWorker', () => {
  it('runs workflow code on one thread per two cores, at least one, at most the cap', () => {
    expect(sizeTourWorker({ cores: 1 }).workflowThreads).toBe(1);
    expect(sizeTourWorker({ cores: 2 }).workflowThreads).toBe(1);
    expect(sizeTourWorker({ cores: 4 }).workflowThreads).toBe(2);
    expect(sizeTourWorker({ cores: 16 }).workflowThreads).toBe(8);
    expect(sizeTourWorker({ cores: 64 }).workflowThreads).toBe(WORKFLOW_THREADS_MAX);
  });

  it('counts the cgroup CPU quota, and an explicit setting wins', () => {
    expect(sizeTourWorker({ cores: 16, cpuMax: '400000 100000' })).toEqual({ cores: 4, workflowThreads: 2 });
    expect(sizeTourWorker({ cores: 16, cpuMax: 'max 100000' }).workflowThreads).toBe(8);
    expect(sizeTourWorker({ cores: 2 }, { workflowThreads: 3 }).workflowThreads).toBe(3);
  });
});

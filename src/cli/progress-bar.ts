import cliProgress from 'cli-progress';
import type { Progress } from '../workflows/types.js';
import { progressRatio } from '../domain/operator-import.js';

/**
 * A live bar on stderr (stdout stays clean for results and --json). The total grows while the
 * catalog is listed page by page, so it is reset on every update.
 */
export function createProgressBar(label: string): { update(p: Progress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | imported {done} unchanged {unchanged} removed {removed} failed {failed} | {status}`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const { value, total } = progressRatio(p);
      const payload = { ...p, status: p.paused ? `paused: ${p.pauseReason}` : p.status };
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

import { readFileSync } from 'node:fs';
import os from 'node:os';
import sharp from 'sharp';
import { temporalCliVersion } from '../../tooling/servers/temporal-cli.js';

/** The machine the bench ran on, for the report's first section. */
export async function machine(cli: string) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    ramGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    cpu: model,
    kernel: os.release(),
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / '),
    sharp: `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    temporal: (await temporalCliVersion(cli).catch(() => cli)).split('\n')[0],
  };
}

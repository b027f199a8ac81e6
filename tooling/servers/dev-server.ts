import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import { isTemporalUp } from '../../src/infra/temporal-reachable.js';

export interface DevServer {
  address: string;
  uiUrl?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cli: string;
  port: number;
  /** Omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; omit for an in-memory server. */
  dbFile?: string;
  /** Where the server's own output goes; inherits the terminal when omitted. */
  logFile?: string;
  readyTimeoutMs?: number;
  /** Extra `--dynamic-config-value` settings, e.g. `matching.enableFairness=true`. */
  dynamicConfig?: string[];
}

/**
 * Server settings the product relies on, for every dev server it starts (docker compose sets the same
 * in config/temporal-dynamic-config.yaml): fair dispatch between the per-operator fairness keys that
 * every task of an import carries (see operatorPriority), so one big catalog cannot starve the others'.
 */
export const PRODUCT_DYNAMIC_CONFIG = ['matching.enableFairness=true'];

/** The project's search attributes, registered on every dev server it starts. */
const SEARCH_ATTRIBUTE_TYPES = Object.values(SEARCH_ATTRIBUTES).map((name) => `${name}=Keyword`);

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--log-level', 'warn'];
  if (o.uiPort) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (o.dbFile) {
    mkdirSync(path.dirname(o.dbFile), { recursive: true });
    args.push('--db-filename', o.dbFile);
  }
  for (const sa of SEARCH_ATTRIBUTE_TYPES) args.push('--search-attribute', sa);
  for (const dc of o.dynamicConfig ?? []) args.push('--dynamic-config-value', dc);
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const child = spawn(o.cli, args, { stdio: ['ignore', out, out], detached: false });
  const address = `127.0.0.1:${o.port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new Error(
          `temporal server start-dev exited with code ${code} before it was ready (port ${o.port} in use?)`,
        ),
      ),
    ),
  );
  try {
    await Promise.race([waitForTemporal(address, o.readyTimeoutMs ?? 90_000), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: o.uiPort ? `http://127.0.0.1:${o.uiPort}` : undefined,
    child,
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Waits for the frontend generously: on a loaded 2-core machine the dev server can take a while. */
export async function waitForTemporal(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isTemporalUp(address)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Temporal at ${address} did not become ready within ${Math.round(timeoutMs / 1000)} s.`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

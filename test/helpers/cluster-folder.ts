import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A temp folder for a private PostgreSQL cluster a test starts itself (`dir`, inside `parent`, which the
 * test removes). Opened to the postgres system user: as root, initdb and postgres run as that user.
 */
export function clusterFolder(prefix: string): { parent: string; dir: string } {
  const parent = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(parent, 0o755);
  return { parent, dir: path.join(parent, 'pg') };
}

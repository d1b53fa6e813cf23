// Notices changes to the config file: in-place writes, editors that save by renaming a new file over it,
// and Kubernetes ConfigMap mounts (the file is a symlink through `..data`, which is swapped atomically).
// Watching the folder, not the file, is what makes the last two visible.

import path from 'node:path';
import { watch } from 'chokidar';

export interface ConfigWatcher {
  close(): Promise<void>;
}

export function watchConfigFile(file: string, onEvent: () => void): ConfigWatcher {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const watcher = watch(dir, { depth: 0, ignoreInitial: true, followSymlinks: false });
  watcher.on('all', (_event, changed) => {
    const base = path.basename(changed);
    if (base === name || isConfigMapEntry(base)) onEvent();
  });
  // A watcher error (the folder vanished, too many watches) must not stop the daemon: SIGHUP still reloads.
  watcher.on('error', () => undefined);
  return { close: () => watcher.close() };
}

/** `..data`, `..data_tmp` and the timestamped `..2026_01_01_...` folders of a ConfigMap volume. */
function isConfigMapEntry(base: string): boolean {
  return base.startsWith('..data') || /^\.\.\d/.test(base);
}

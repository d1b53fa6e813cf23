// Notices changes to the config file and to the key files `verify:` names: in-place writes, editors that
// save by renaming a new file over it, and Kubernetes ConfigMap and Secret mounts (the file is a symlink
// through `..data`, which is swapped atomically). Watching the folders, not the files, is what makes the
// last two visible.

import path from 'node:path';
import { watch } from 'chokidar';

export interface ConfigWatcher {
  close(): Promise<void>;
}

export function watchConfigFile(file: string, onEvent: () => void): ConfigWatcher {
  return watchFiles([file], onEvent);
}

/** One watcher for every folder that holds one of `files`; `onEvent` on any change to one of them. */
export function watchFiles(files: readonly string[], onEvent: () => void): ConfigWatcher {
  const names = new Map<string, Set<string>>();
  for (const file of files) {
    const dir = path.dirname(file);
    const set = names.get(dir) ?? new Set<string>();
    set.add(path.basename(file));
    names.set(dir, set);
  }
  if (names.size === 0) return { close: () => Promise.resolve() };
  const watcher = watch([...names.keys()], { depth: 0, ignoreInitial: true, followSymlinks: false });
  watcher.on('all', (_event, changed) => {
    const base = path.basename(changed);
    if (names.get(path.dirname(changed))?.has(base) === true || isConfigMapEntry(base)) onEvent();
  });
  // A watcher error (a folder vanished, too many watches) must not stop the daemon: SIGHUP still reloads.
  watcher.on('error', () => undefined);
  return { close: () => watcher.close() };
}

/** `..data`, `..data_tmp` and the timestamped `..2026_01_01_...` folders of a ConfigMap volume. */
function isConfigMapEntry(base: string): boolean {
  return base.startsWith('..data') || /^\.\.\d/.test(base);
}

/**
 * Who else has a SQLite database open, without opening it for writing. A Gofer server opens its database in WAL
 * mode, and SQLite then holds a shared POSIX lock on the database file (and on the `-shm` file's "dead man
 * switch" byte) for as long as the connection is open, even while idle. Linux lists every POSIX lock in
 * `/proc/locks` with the holder's pid and the file's device and inode, so reading that file finds a running
 * server (or any other process) on the database at no risk to it.
 *
 * The other ways were weaker: SQLite's own `locking_mode=EXCLUSIVE` probe needs a writable connection (closing it
 * may checkpoint into the file), a read-only connection cannot take it at all, and Gofer writes no pid file.
 */
import { readFileSync, statSync } from "node:fs";

/**
 * The pids (other than this process) holding a lock on the database file or its `-shm` file; `undefined` when
 * the system does not say (no `/proc/locks`: not Linux), and the caller must rely on the person instead.
 */
export function sqliteLockHolders(path: string): number[] | undefined {
  let locks: string;
  try {
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  const files = new Set<string>();
  for (const file of [path, `${path}-shm`, `${path}-wal`]) {
    try {
      const stat = statSync(file);
      files.add(`${deviceOf(stat.dev)}:${stat.ino}`);
    } catch {
      // A clean shutdown removes the -wal and -shm files.
    }
  }
  const holders = new Set<number>();
  for (const line of locks.split("\n")) {
    // `1: POSIX  ADVISORY  READ 27069 fe:00:4251711 1073741826 1073742335`; waiters are marked `->`.
    const fields = line.replace("->", "").trim().split(/\s+/);
    const pid = Number(fields[4]);
    const file = fields[5];
    if (file === undefined || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (files.has(file.toLowerCase())) holders.add(pid);
  }
  return [...holders];
}

/** `major:minor` in hex as /proc/locks prints a device (Linux's encoding of `st_dev`). */
function deviceOf(dev: number): string {
  const big = BigInt(dev);
  const major = ((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn);
  const minor = (big & 0xffn) | ((big >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

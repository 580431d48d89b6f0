/**
 * Under an npm script (`npm start`, `npm run start:broker`, `npm run
 * device:sim`) npm runs the command through a shell, and a SIGTERM sent to
 * npm (a process manager, an editor's stop button, `kill` of the pid a shell
 * script kept) stops npm and that shell without reaching this process, which
 * would run on, holding its ports and, under `npm start`, its PostgreSQL.
 * Ctrl-C reaches every process of the terminal's group and needs none of this.
 *
 * So, started by npm, a process calls `stop` once its parent is gone, as it
 * would on SIGTERM. Started any other way (a container, systemd, `node` by
 * hand) nothing is watched: a parent that exits there does not mean "stop".
 */
export function stopWhenNpmIsGone(stop: () => void, everyMs = 1000): void {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, everyMs);
  timer.unref();
}

// The command line's training progress, drawn by cli-progress: a bar redrawn in place on a
// terminal, a line every 2 s in a log (and after the first update, and at the end). The rate
// counts from the start of this run (a resumed run from where it resumed), so it is right from
// the first update; the ETA is for the whole run; the loss is the running mean of the current
// epoch (or of the last iterations).
import cliProgress from 'cli-progress';

const LOG_EVERY_MS = 2000;

/**
 * A progress display for `total` units (rows, or iterations) of which `done` are behind a resumed
 * run. `update(done, fields)` after each step: `fields.where` (e.g. "epoch 2/5") and `fields.loss`.
 */
export function trainingProgress(label, { total, done: start, unit }) {
  const stream = process.stderr;
  const tty = stream.isTTY === true;
  const format = `${label}${tty ? ' [{bar}]' : ''} {percentage}% · {where} · {rate} · ETA {remaining} · {loss}`;
  const bar = new cliProgress.SingleBar({
    format, stream, noTTYOutput: true, notTTYSchedule: LOG_EVERY_MS, hideCursor: false, gracefulExit: false, barsize: 24,
    barCompleteChar: '#', barIncompleteChar: '.',
  });
  const t0 = performance.now();
  let logged = -Infinity;
  bar.start(total, start, { where: 'starting', rate: '—', remaining: '—', loss: '' });
  return {
    update(done, { where, loss }) {
      const seconds = (performance.now() - t0) / 1000;
      const rate = (done - start) / seconds;
      const eta = rate > 0 ? cliProgress.Format.TimeFormat(Math.ceil((total - done) / rate), { autopaddingChar: '0' }, 1) : '—';
      bar.update(done, { where, rate: `${formatRate(rate)} ${unit}/s`, remaining: eta, loss });
      // On a terminal cli-progress redraws as it goes; a log gets a line now and then. (Training runs
      // synchronously, so the bar's own timer would only fire between epochs.)
      if (!tty && (logged === -Infinity || performance.now() - logged >= LOG_EVERY_MS)) {
        logged = performance.now();
        bar.render();
      }
    },
    stop() {
      bar.stop();
    },
  };
}

function formatRate(r) {
  if (!Number.isFinite(r)) return '—';
  return r >= 100 ? Math.round(r).toLocaleString('en') : r.toPrecision(3);
}

// The debug trace for people tuning latentkit, as tinygrad's DEBUG: with LATENTKIT_DEBUG=1 in
// the environment (Node, Deno) or setDebug(1) (any runtime, browsers included), every kernel
// call prints its name, shapes, how it was split across threads, and its time.
import { LatentkitError } from '../errors.js';

function fromEnvironment(): number {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env?: { get(k: string): string | undefined } } };
  let v: string | undefined;
  try {
    // Deno without --allow-env throws here: no permission means no trace, not an error.
    v = g.process?.env?.LATENTKIT_DEBUG ?? g.Deno?.env?.get('LATENTKIT_DEBUG');
  } catch {
    v = undefined;
  }
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : 0;
}

type Listener = (on: boolean) => void;

class Trace {
  level = fromEnvironment();
  private listeners: Listener[] = [];

  onChange(f: Listener): void {
    this.listeners.push(f);
  }

  set(level: number): void {
    if (!Number.isInteger(level) || level < 0) throw new LatentkitError(`setDebug takes an integer ≥ 0 (0: off, 1: every kernel call), got ${JSON.stringify(level)}`);
    const changed = (level > 0) !== (this.level > 0);
    this.level = level;
    if (changed) this.listeners.forEach((f) => f(level > 0));
  }

  print(line: string): void {
    const err = (globalThis as { process?: { stderr?: { write(s: string): void } } }).process?.stderr;
    // stderr in Node and Deno, so a command's own output (a CSV on stdout) stays clean.
    if (err?.write) err.write(`latentkit: ${line}\n`);
    else console.log(`latentkit: ${line}`);
  }
}

export const trace = new Trace();

/**
 * Turns the kernel trace on (1) or off (0): each kernel call then prints its name, shapes,
 * thread split and time, e.g. `dense_forward 32×8 → 32×16 · 1 thread · 0.004 ms`. The
 * environment variable LATENTKIT_DEBUG=1 turns it on at import in Node and Deno.
 */
export function setDebug(level: number): void {
  trace.set(level);
}

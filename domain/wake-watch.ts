// Which of a case's due wake-ups the runtime has already looked at (workflows/case-runtime.ts).

/** Passes in a row at one instant before the runtime backs off anyway: a rule that keeps moving its own wake-up cannot spin it. */
const maxPassesAtOneInstant = 10;

type Kind = 'clocks' | 'wake';

/**
 * Remembers, per kind of wake-up (SLA clocks, the type's own), when the runtime last looked and
 * what fell due next right after. A wake-up due now that fell due after that look, or moved since,
 * is unseen: the runtime acts on it at once (a breach that came due while its warning was being
 * recorded). One it looked at and left is the type's to explain: the runtime backs off.
 */
export class WakeWatch {
  private readonly looked: Record<Kind, { atMs: number; nextAtMs: number | undefined }> = {
    clocks: { atMs: -Infinity, nextAtMs: undefined },
    wake: { atMs: -Infinity, nextAtMs: undefined },
  };
  private passes = { atMs: Number.NaN, count: 0 };

  /** The runtime looked at `kind` at `atMs`; `nextAtMs` is when it next falls due after that look. */
  lookedAt(kind: Kind, atMs: number, nextAtMs: number | undefined): void {
    this.looked[kind] = { atMs, nextAtMs };
  }

  /** Whether a wake-up due by `nowMs` was not looked at (see the class). */
  dueUnseen(nowMs: number, next: Record<Kind, number | undefined>): boolean {
    return (['clocks', 'wake'] as const).some((kind) => {
      const atMs = next[kind];
      const looked = this.looked[kind];
      return atMs !== undefined && atMs <= nowMs && (atMs > looked.atMs || atMs !== looked.nextAtMs);
    });
  }

  /** Counts a pass that starts at once; false once too many have at one instant (no time passed: nothing was recorded). */
  againAtOnce(nowMs: number): boolean {
    this.passes = this.passes.atMs === nowMs ? { atMs: nowMs, count: this.passes.count + 1 } : { atMs: nowMs, count: 1 };
    return this.passes.count <= maxPassesAtOneInstant;
  }
}

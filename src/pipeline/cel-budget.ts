// The cost guard of CEL evaluation (docs/cel.md, "Cost guard"). CelProgram.evaluate is synchronous, so it
// cannot be moved to a worker without the caller blocking on it anyway; instead evaluation checks a wall-clock
// deadline cooperatively: every comprehension step ticks, and functions whose cost grows with the payload
// check before they start (and, where they loop, while they run). Two limits apply:
// - one evaluation (a filter or an overlay) stops after EVALUATION_BUDGET_MS;
// - all evaluations on one webhook body together stop after WEBHOOK_BUDGET_MS. The pipeline parses a body
//   once and hands the same object to every trigger, so the body's identity names the webhook.

/** Wall-clock budget of one evaluation (one filter or one overlay). */
export const EVALUATION_BUDGET_MS = 1000;
/** Wall-clock budget of every filter and overlay of every trigger evaluated on one webhook body. */
export const WEBHOOK_BUDGET_MS = 1500;

/** Reading the clock costs ~50 ns, a comprehension step ~1 µs: checking every 16 steps is cheap and prompt. */
const TICKS_PER_CHECK = 16;

export type BudgetLimit = 'expression' | 'webhook';

export class BudgetExceeded extends Error {
  constructor(readonly limit: BudgetLimit) {
    super(
      limit === 'expression'
        ? `evaluation stopped after ${EVALUATION_BUDGET_MS} ms (the gateway's limit per expression): ` +
            'the expression does too much work for this payload'
        : `evaluation stopped: this webhook's expressions together used the gateway's ${WEBHOOK_BUDGET_MS} ms of CEL time`,
    );
  }
}

/** CEL time already spent per webhook body; entries go when the body does. */
const spentPerBody = new WeakMap<object, number>();

export class EvaluationBudget {
  private ticks = 0;
  private spentOut = false;

  private constructor(
    private readonly body: object | undefined,
    private readonly started: number,
    private readonly spentBefore: number,
    private readonly deadline: number,
    readonly limit: BudgetLimit,
  ) {}

  /**
   * Starts the clock for one evaluation on `body`. Throws BudgetExceeded at once when the webhook's budget is
   * already used up.
   */
  static start(body: unknown): EvaluationBudget {
    const key = typeof body === 'object' && body !== null ? body : undefined;
    const spent = key === undefined ? 0 : (spentPerBody.get(key) ?? 0);
    const remaining = WEBHOOK_BUDGET_MS - spent;
    if (remaining <= 0) throw new BudgetExceeded('webhook');
    const started = performance.now();
    const limit = remaining < EVALUATION_BUDGET_MS ? 'webhook' : 'expression';
    return new EvaluationBudget(
      key,
      started,
      spent,
      started + Math.min(EVALUATION_BUDGET_MS, remaining),
      limit,
    );
  }

  /** True once the deadline has passed; a result computed after that (an error absorbed by `||`) is not trusted. */
  get exceeded(): boolean {
    return this.spentOut;
  }

  /** Throws BudgetExceeded when the deadline has passed. */
  check(): void {
    if (this.spentOut || performance.now() > this.deadline) {
      this.spentOut = true;
      throw new BudgetExceeded(this.limit);
    }
  }

  /** One unit of work (a comprehension step, a list element, a regex position). */
  tick(): void {
    if (++this.ticks % TICKS_PER_CHECK === 0 || this.spentOut) this.check();
  }

  /** Adds this evaluation's time to its webhook's total. */
  finish(): void {
    if (this.body !== undefined)
      spentPerBody.set(this.body, this.spentBefore + (performance.now() - this.started));
  }
}

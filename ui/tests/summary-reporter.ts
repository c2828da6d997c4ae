// Ends the run with one line CI can count: "N passed, N failed[, N skipped]".
import type { Reporter, Suite } from '@playwright/test/reporter';

export default class SummaryReporter implements Reporter {
  #root: Suite | undefined;

  onBegin(_config: unknown, suite: Suite): void {
    this.#root = suite;
  }

  onEnd(): void {
    const outcomes = (this.#root?.allTests() ?? []).map((test) => test.outcome());
    const count = (...kinds: string[]) => outcomes.filter((outcome) => kinds.includes(outcome)).length;
    const skipped = count('skipped');
    const line = `${String(count('expected', 'flaky'))} passed, ${String(count('unexpected'))} failed`;
    console.log(skipped > 0 ? `${line}, ${String(skipped)} skipped` : line);
  }

  printsToStdio(): boolean {
    return true;
  }
}

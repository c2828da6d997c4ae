// An import's dry run as one list by line: the station's verdict on each
// record that could be read, and the lines that could not.
import type { ApiError } from '../../bindings/ApiError';
import type { ImportDryRun } from '../../bindings/ImportDryRun';
import type { RowOutcome } from './looks';

export interface DryRunRow {
  line: number;
  deviceId: string | null;
  outcome: RowOutcome;
  /** For `updated`: the fields that would change. */
  changes: string[];
  /** For `conflicting`: the station's reason. */
  problem: ApiError | null;
  /** For `unreadable`: what is wrong with the line. */
  message: string;
}

export function dryRunRows(dryRun: ImportDryRun): DryRunRow[] {
  const read: DryRunRow[] = dryRun.preview.rows.map((row) => ({
    // `lines[i]` is the line of the record `preview.rows[i]` answers (ImportDryRun).
    line: dryRun.lines[row.index] ?? row.index + 1,
    deviceId: row.deviceId,
    outcome: row.outcome,
    changes: row.changes,
    problem: row.problem,
    message: '',
  }));
  const unreadable: DryRunRow[] = dryRun.unreadable.map((row) => ({
    line: row.line,
    deviceId: null,
    outcome: 'unreadable',
    changes: [],
    problem: null,
    message: row.message,
  }));
  return [...read, ...unreadable].sort((a, b) => a.line - b.line);
}

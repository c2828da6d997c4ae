// What every part of the fake backend shares: refusals as Rust sends them.
import type { AppError } from '../src/bindings/AppError';
import { ERROR_CATALOGUE } from '../src/bindings/ErrorCatalogue';
import type { ErrorCode } from '../src/bindings/ErrorCode';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** The message Rust sends with `code` when it knows nothing more specific:
 * the error catalogue as the bindings test exports it from Rust, so the fake
 * cannot answer with a message of its own. */
export function messageFor(code: ErrorCode): string {
  return ERROR_CATALOGUE[code].message;
}

export const appError = (code: ErrorCode, message = messageFor(code)): AppError => ({ code, message });

/** A command's refusal: the `{ code, message }` Rust rejects with. A message
 * is given only where Rust's is more specific than the catalogue's (the
 * station's own words, passed through). */
export class Refusal extends Error {
  readonly appError: AppError;
  constructor(code: ErrorCode, message?: string) {
    super(code);
    this.appError = appError(code, message);
  }
}

export function text(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw new Error(`argument ${name} is not a string: ${JSON.stringify(value)}`);
  return value;
}

export function object(args: Record<string, unknown>, name: string): object {
  const value = args[name];
  if (typeof value !== 'object' || value === null) {
    throw new Error(`argument ${name} is not an object: ${JSON.stringify(value)}`);
  }
  return value;
}

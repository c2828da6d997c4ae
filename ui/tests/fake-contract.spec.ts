// The fake backend keeps copies of three Rust rules so the UI tests can drive
// the screens without a station: typed-code checking, what scanning a QR
// tells the Scan screen, and which CA files are certificates. Rust runs its
// real rules on fixed inputs and keeps the answers in contract/rules.json
// (src-tauri/src/ipc/contract.rs); here the fake answers the same inputs and
// must agree, so a spec that passes against the fake passes on Rust's rules.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CodeCheck } from '../src/bindings/CodeCheck';
import type { ErrorCode } from '../src/bindings/ErrorCode';
import type { Sighting } from '../src/bindings/Sighting';
import { Refusal, caCertificate, checkCode } from './fake-backend';
import { FakeScanner, ScanRefusal } from './fake-scanner';

type Step =
  | { op: 'consider'; text: string; running: string[]; expect: unknown }
  | { op: 'take'; scanId: string; expect: { deviceId: string } | { refused: ErrorCode } }
  | { op: 'dismiss'; scanId: string };

interface Rules {
  now: string;
  typedCodes: { input: string; expect: CodeCheck }[];
  scanning: { name: string; steps: Step[] }[];
  caFiles: { file: string; expect: { fingerprint: string; subject: string } | { refused: ErrorCode } }[];
}

const rules = JSON.parse(readFileSync(path.join(import.meta.dirname, 'contract', 'rules.json'), 'utf8')) as Rules;

/** A refusal as the contract compares it: by code (Rust's own tests check its message). */
function comparable(sighting: Sighting): unknown {
  if (sighting.kind !== 'refused') return sighting;
  return { kind: sighting.kind, code: sighting.code };
}

test('typed codes are formatted and checked as Rust does', () => {
  for (const { input, expect: expected } of rules.typedCodes) {
    expect(checkCode(input), JSON.stringify(input)).toEqual(expected);
  }
});

for (const scenario of rules.scanning) {
  test(`scanning: ${scenario.name}, as Rust does`, () => {
    const scanner = new FakeScanner(() => Date.parse(rules.now));
    for (const [index, step] of scenario.steps.entries()) {
      const where = `step ${String(index + 1)}: ${JSON.stringify(step)}`;
      if (step.op === 'consider') {
        const sighting = scanner.consider(step.text, (deviceId) => step.running.includes(deviceId));
        expect(comparable(sighting), where).toEqual(step.expect);
      } else if (step.op === 'take') {
        let answer: unknown;
        try {
          answer = scanner.take(step.scanId);
        } catch (refusal) {
          if (!(refusal instanceof ScanRefusal)) throw refusal;
          answer = { refused: refusal.code };
        }
        expect(answer, where).toEqual(step.expect);
      } else {
        scanner.dismiss(step.scanId);
      }
    }
  });
}

test('CA files are read as Rust reads them', () => {
  for (const { file, expect: expected } of rules.caFiles) {
    let answer: unknown;
    try {
      answer = caCertificate(file);
    } catch (refusal) {
      if (!(refusal instanceof Refusal)) throw refusal;
      answer = { refused: refusal.appError.code };
    }
    expect(answer, JSON.stringify(file)).toEqual(expected);
  }
});

// Where the caret belongs after the typed code is re-formatted: after the same
// number of code characters as before, wherever dashes were added or removed.

const SEPARATOR = /[\s\-_.·\u2010-\u2015\u2212]/u;

export function caretAfterReformat(typed: string, caret: number, display: string): number {
  let wanted = Array.from(typed.slice(0, caret)).filter((c) => !SEPARATOR.test(c)).length;
  if (wanted === 0) return 0;
  const chars = Array.from(display);
  for (let index = 0; index < chars.length; index += 1) {
    if (!SEPARATOR.test(chars[index] ?? '')) wanted -= 1;
    if (wanted === 0) return index + 1;
  }
  return display.length;
}

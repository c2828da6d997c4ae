// The station's rule for a new password (zpair_proto::admin::PasswordChange),
// said while it is typed so the button is never a guessing game.

export const MIN_PASSWORD_CHARS = 12;

export function newPasswordHint(next: string, current: string): string {
  const length = Array.from(next).length;
  if (length === 0) return `At least ${String(MIN_PASSWORD_CHARS)} characters, not the current password.`;
  if (length < MIN_PASSWORD_CHARS) {
    const more = MIN_PASSWORD_CHARS - length;
    return `${String(more)} more ${more === 1 ? 'character' : 'characters'} needed (at least ${String(MIN_PASSWORD_CHARS)}).`;
  }
  if (next === current) return 'Must differ from the current password.';
  return 'Long enough.';
}

export function repeatHint(repeat: string, next: string): string {
  if (repeat === '') return 'Type the new password again.';
  return repeat === next ? 'Matches the new password.' : 'Does not match the new password yet.';
}

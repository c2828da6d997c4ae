// The station's rules for a new account (zpair_proto::admin::NewAccount),
// said beside the fields while they are typed.

/** 3 to 64 of `a-z 0-9 . _ -`, starting with a letter. */
export function usernameHint(username: string): { text: string; ok: boolean } {
  if (username === '') return { text: "3 to 64 of a–z, 0–9, '.', '_' and '-', starting with a letter.", ok: false };
  if (!/^[a-z]/.test(username)) return { text: 'Start with a letter a–z.', ok: false };
  if (/[^a-z0-9._-]/.test(username)) return { text: "Only a–z, 0–9, '.', '_' and '-' (no capitals or spaces).", ok: false };
  if (username.length < 3) return { text: 'At least 3 characters.', ok: false };
  if (username.length > 64) return { text: 'At most 64 characters.', ok: false };
  return { text: 'They sign in with this.', ok: true };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** 1 to 100 characters, no control characters. */
export const displayNameOk = (name: string): boolean =>
  name.trim() !== '' && Array.from(name).length <= 100 && !CONTROL.test(name);

/** How a status reads at a glance; always shown with an icon and words too. */
export type Tone = 'ok' | 'warn' | 'bad' | 'busy' | 'neutral';

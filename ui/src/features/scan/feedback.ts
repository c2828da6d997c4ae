// A short tone and a buzz when a monitor is found: the technician is looking
// at the monitor, not at the tablet.

let audio: AudioContext | null = null;

export function signalFound(): void {
  // WebKitGTK and iOS have no vibration; the types say every browser does.
  if ('vibrate' in navigator) navigator.vibrate(120);
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.15);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // No audio output: the vibration and the card on screen still say it.
  }
}

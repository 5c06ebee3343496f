// A pop in a hidden tab: the browser's Notification (asked for on the first click in the console)
// and a short tone from Web Audio (no sound file to load).
let audio: AudioContext | null = null;

export function askNotificationPermission(): void {
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
  // Browsers start audio only after a user gesture: create the context on the first click.
  audio ??= new AudioContext();
}

function tone(): void {
  if (!audio) return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.6);
}

/** Alerts only when the tab is hidden: a visible tab shows the pop itself. */
export function alertIfHidden(title: string, body: string, tag: string): void {
  if (!document.hidden) return;
  tone();
  if ('Notification' in window && Notification.permission === 'granted') {
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  }
}

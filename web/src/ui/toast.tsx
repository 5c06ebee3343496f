import { signal } from '@preact/signals';

interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}
const toasts = signal<Toast[]>([]);
let seq = 0;

/** A short message in the corner for 5 s (a call started, a save failed). */
export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const id = ++seq;
  toasts.value = [...toasts.value, { id, text, kind }];
  setTimeout(() => (toasts.value = toasts.value.filter((x) => x.id !== id)), 5_000);
}

export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((x) => (
        <div key={x.id} class={`toast ${x.kind}`}>{x.text}</div>
      ))}
    </div>
  );
}

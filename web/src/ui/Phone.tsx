import { signal } from '@preact/signals';
import { callNumber, type CallTarget } from '../live/click-to-call.js';

// The formatter brings libphonenumber's metadata (tens of KB): it loads after the first screen,
// and until then a number shows as stored. Every Phone re-renders grouped once it is here.
const formatter = signal<((number: string) => string) | null>(null);
let loading = false;

function shown(number: string): string {
  const format = formatter.value;
  if (format !== null) return format(number);
  if (!loading) {
    loading = true;
    import('./phone-format.js').then(
      (m) => (formatter.value = m.formatPhone),
      () => (loading = false), // a failed chunk is asked for again by the next number drawn
    );
  }
  return number;
}

/** Every number on screen: a tel: link that calls through Switchboard on click, grouped for reading. */
export function Phone({ number, clientId, contactId }: { number: string } & Omit<CallTarget, 'to'>) {
  return (
    <a
      class="phone"
      href={`tel:${number.replace(/[^\d+*]/g, '')}`}
      data-phone={number}
      onClick={(e) => {
        e.preventDefault();
        void callNumber({ to: number, ...(clientId !== undefined && { clientId }), ...(contactId !== undefined && { contactId }) });
      }}
    >
      {shown(number)}
    </a>
  );
}

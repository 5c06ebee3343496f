import { callNumber, type CallTarget } from '../live/click-to-call.js';

/** Every number on screen: a tel: link that calls through Switchboard on click. */
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
      {number}
    </a>
  );
}

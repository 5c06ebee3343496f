import { useEffect, useRef, useState } from 'preact/hooks';
import { session } from '../api/session.js';
import { fmtSeconds, t } from '../i18n/i18n.js';

export interface Marker {
  atSeconds: number;
  label: string;
}

/**
 * A call's recording with its waveform (wavesurfer.js, loaded on first use). The <audio> element
 * plays and seeks through HTTP Range (206 from GET /api/calls/{id}/recording); the token goes in
 * the query because a media element cannot send headers.
 */
export function RecordingPlayer({ callId, markers = [], onTime }: { callId: number; markers?: Marker[]; onTime?: (seconds: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [duration, setDuration] = useState(0);
  const [error, setError] = useState<string | null>(null);
  // Absolute, as the <audio> element reports it: wavesurfer then keeps the element's own source
  // (streamed with Range requests) and fetches the file once for the waveform only; given another
  // spelling it would swap in a blob of the whole file and the position would start over.
  const src = new URL(`/api/calls/${callId}/recording?token=${encodeURIComponent(session.value?.token ?? '')}`, location.href).href;

  useEffect(() => {
    let destroyed = false;
    let ws: { destroy(): void } | null = null;
    import('wavesurfer.js').then(({ default: WaveSurfer }) => {
      if (destroyed || !box.current || !audio.current) return;
      ws = WaveSurfer.create({ container: box.current, media: audio.current, height: 56, waveColor: '#9fb3c8', progressColor: '#1f6feb', url: src });
      (ws as unknown as { on(e: string, f: (x: unknown) => void): void }).on('error', (e) => setError(String(e)));
    }, (e: Error) => setError(e.message));
    return () => {
      destroyed = true;
      ws?.destroy();
    };
  }, [callId]);

  return (
    <div class="player" data-testid="player">
      <div ref={box} class="wave" />
      <div class="markers">
        {duration > 0 &&
          markers.map((m, i) => (
            <span key={i} class="marker" title={`${fmtSeconds(Math.round(m.atSeconds))} ${m.label}`} style={{ left: `${(100 * m.atSeconds) / duration}%` }}
              onClick={() => audio.current && (audio.current.currentTime = m.atSeconds)} />
          ))}
      </div>
      <audio
        ref={audio}
        controls
        preload="metadata"
        src={src}
        onLoadedMetadata={(e) => setDuration(e.currentTarget.duration)}
        onTimeUpdate={(e) => onTime?.(e.currentTarget.currentTime)}
      />
      {error && <p class="error">{t('common.error', { message: error })}</p>}
    </div>
  );
}

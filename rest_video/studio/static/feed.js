// The live feed over a WebSocket: each message is 8 bytes of capture time (float64, seconds on the
// server's clock) and a JPEG. The frame is decoded, drawn into the <img>, and the latency from
// capture to display is sent back to the server (the control page shows every viewer's).
import { wsUrl } from "/static/api.js";

export function openFeed(img, onMessage, onFrame) {
  let socket = null;
  let closed = false;
  let lastUrl = null;
  const connect = () => {
    socket = new WebSocket(wsUrl("/live/ws"));
    socket.binaryType = "arraybuffer";
    socket.onmessage = async (ev) => {
      if (typeof ev.data === "string") {
        const msg = JSON.parse(ev.data);
        if (msg.error) onMessage(msg.error);
        return;
      }
      const captured = new DataView(ev.data, 0, 8).getFloat64(0, true);
      const blob = new Blob([new Uint8Array(ev.data, 8)], { type: "image/jpeg" });
      const url = URL.createObjectURL(blob);
      img.src = url;
      try { await img.decode(); } catch { return; }
      if (lastUrl) URL.revokeObjectURL(lastUrl);
      lastUrl = url;
      const latency = Date.now() - captured * 1000;  // same clock: the studio runs on this machine
      onMessage("");
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ latency_ms: latency }));
      if (onFrame) onFrame(latency);
    };
    socket.onclose = () => { if (!closed) setTimeout(connect, 1000); };
  };
  connect();
  return () => { closed = true; socket.close(); };
}

'use strict';
// The creation studio (#/studio): record from the camera and microphone or pick a file, trim,
// change speed, apply an effect live, add timed text, mix in a sound from the library, choose a
// cover, and post. The result is rendered in the browser (a canvas and Web Audio, recorded by
// MediaRecorder as WebM) and uploaded through the same API as any video; the server checks
// every byte. Loaded before app.js, whose helpers (h, api, toast, csrf, …) it uses when called.

const STUDIO_W = 360, STUDIO_H = 640;
const STUDIO_EFFECTS = [['', 'Original'], ['vivid', 'Vivid'], ['mono', 'Mono'], ['sepia', 'Sepia'], ['warm', 'Warm'],
  ['beauty', 'Beauty (soft skin)'], ['green_screen', 'Green screen'], ['split', 'Split'], ['mirror', 'Mirror']];
const STUDIO_FILTERS = { vivid: 'saturate(1.8) contrast(1.1)', mono: 'grayscale(1)', sepia: 'sepia(1)', warm: 'sepia(.35) saturate(1.4) hue-rotate(-10deg)', beauty: 'blur(1.5px) brightness(1.08)' };

function studioWait(el, event) { return new Promise(r => el.addEventListener(event, r, { once: true })); }

async function studioSeek(el, t) {
  if (Math.abs(el.currentTime - t) < 0.01) return;
  const done = studioWait(el, 'seeked');
  el.currentTime = t;
  await done;
}

async function studioPage() {
  leaveFeed();
  if (needsAccount()) return;
  const s = { take: null, length: 0, start: 0, end: 0, max: 15, speed: 1, effect: '', text: '', textFrom: 0, textTo: 3,
    sound: null, soundOffset: 0, origVol: 1, soundVol: 0.8, cover: 0, rendering: false };
  const src = h('video', { playsinline: true, class: 'studio-src' });
  const canvas = h('canvas', { width: STUDIO_W, height: STUDIO_H, class: 'studio-canvas' });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const snd = h('audio', { preload: 'auto' });
  const ac = new AudioContext();
  const mix = ac.createMediaStreamDestination();
  const origGain = ac.createGain(), soundGain = ac.createGain();
  ac.createMediaElementSource(src).connect(origGain);
  ac.createMediaElementSource(snd).connect(soundGain);
  for (const g of [origGain, soundGain]) { g.connect(mix); g.connect(ac.destination); }
  const err = h('p', { class: 'error' });
  const status = h('p', { class: 'studio-status' });

  // ---- drawing: the preview and the result are the same canvas ----
  function cover(img, y0, hh) {
    const iw = img.videoWidth || STUDIO_W, ih = img.videoHeight || STUDIO_H;
    const scale = Math.max(STUDIO_W / iw, hh / ih);
    const w = iw * scale, hgt = ih * scale;
    ctx.drawImage(img, (STUDIO_W - w) / 2, y0 + (hh - hgt) / 2, w, hgt);
  }
  function draw() {
    ctx.save();
    ctx.beginPath(); ctx.rect(0, 0, STUDIO_W, STUDIO_H); ctx.clip();
    ctx.filter = STUDIO_FILTERS[s.effect] || 'none';
    if (s.effect === 'split') {
      ctx.save(); ctx.beginPath(); ctx.rect(0, 0, STUDIO_W, STUDIO_H / 2); ctx.clip(); cover(src, 0, STUDIO_H / 2); ctx.restore();
      ctx.filter = 'grayscale(1) contrast(1.2)';
      ctx.save(); ctx.beginPath(); ctx.rect(0, STUDIO_H / 2, STUDIO_W, STUDIO_H / 2); ctx.clip(); cover(src, STUDIO_H / 2, STUDIO_H / 2); ctx.restore();
    } else {
      cover(src, 0, STUDIO_H);
    }
    ctx.restore();
    if (s.effect === 'mirror') {
      ctx.save(); ctx.translate(STUDIO_W, 0); ctx.scale(-1, 1);
      ctx.drawImage(canvas, 0, 0, STUDIO_W / 2, STUDIO_H, 0, 0, STUDIO_W / 2, STUDIO_H);
      ctx.restore();
    }
    if (s.effect === 'green_screen') {
      // Green becomes a sunset gradient.
      const img = ctx.getImageData(0, 0, STUDIO_W, STUDIO_H), d = img.data;
      for (let i = 0; i < d.length; i += 4) {
        const r = d[i], g = d[i + 1], b = d[i + 2];
        if (g > 90 && g > r * 1.25 && g > b * 1.25) {
          const y = (i / 4 / STUDIO_W) / STUDIO_H;
          d[i] = 255 - 80 * y; d[i + 1] = 120 + 60 * y; d[i + 2] = 90 + 140 * y;
        }
      }
      ctx.putImageData(img, 0, 0);
    }
    const rel = (src.currentTime - s.start);
    if (s.text && rel >= s.textFrom && rel <= s.textTo) {
      ctx.font = 'bold 34px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.lineWidth = 5; ctx.strokeStyle = '#000'; ctx.fillStyle = '#fff';
      ctx.strokeText(s.text, STUDIO_W / 2, STUDIO_H * 0.42, STUDIO_W - 20);
      ctx.fillText(s.text, STUDIO_W / 2, STUDIO_H * 0.42, STUDIO_W - 20);
    }
  }
  // Runs while the studio is on screen; leaving it stops the camera, the players and the audio.
  function tick() {
    if (!canvas.isConnected) {
      src.pause(); snd.pause();
      if (src.srcObject) src.srcObject.getTracks().forEach(t => t.stop());
      ac.close();
      return;
    }
    if (src.readyState >= 2) draw();
    // Looping preview of the trimmed part (not while rendering).
    if (s.take && !s.rendering && !src.paused && src.currentTime >= s.end) { src.currentTime = s.start; syncSound(); }
    requestAnimationFrame(tick);
  }
  function syncSound() {
    if (!s.sound) return;
    snd.currentTime = s.soundOffset + (src.currentTime - s.start) / s.speed;
    if (!src.paused) snd.play().catch(() => {});
  }

  // ---- 1. the source: camera or file ----
  const maxSel = h('select', { name: 'max', onchange: () => { s.max = Number(maxSel.value); clampTrim(); } },
    h('option', { value: 15 }, '15 s'), h('option', { value: 60 }, '60 s'));
  const recBtn = h('button', { class: 'primary', type: 'button', id: 'studio-record', hidden: true }, 'Start recording');
  const camBtn = h('button', { class: 'secondary', type: 'button', id: 'studio-camera', onclick: async () => {
    err.textContent = '';
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      src.srcObject = stream; src.muted = true; await src.play();
      recBtn.hidden = false;
      recBtn.onclick = () => record(stream);
    } catch (ex) { err.textContent = 'The camera could not be opened: ' + ex.message; }
  } }, '● Camera');
  function record(stream) {
    const rec = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8,opus' });
    const chunks = [];
    rec.ondataavailable = e => { if (e.data.size) chunks.push(e.data); };
    const began = performance.now();
    rec.onstop = () => {
      stream.getTracks().forEach(t => t.stop());
      load(new Blob(chunks, { type: 'video/webm' }), (performance.now() - began) / 1000);
    };
    rec.start(250);
    recBtn.textContent = 'Stop';
    recBtn.onclick = () => rec.stop();
    setTimeout(() => { if (rec.state === 'recording') rec.stop(); }, s.max * 1000);
    status.textContent = 'Recording…';
  }
  const file = h('input', { type: 'file', accept: 'video/*', name: 'studio-file', onchange: () => { if (file.files[0]) load(file.files[0], 0); } });
  async function load(blob, seconds) {
    s.take = blob;
    src.srcObject = null; src.muted = false;
    src.src = URL.createObjectURL(blob);
    await studioWait(src, 'loadedmetadata');
    if (!isFinite(src.duration)) {
      // A recorded WebM has no duration until read to the end.
      src.currentTime = 1e9; await studioWait(src, 'seeked');
    }
    s.length = isFinite(src.duration) && src.duration > 0 ? src.duration : seconds;
    s.start = 0; s.end = Math.min(s.length, s.max);
    s.textTo = Math.min(3, s.end);
    await studioSeek(src, 0);
    recBtn.hidden = true;
    status.textContent = `Your take: ${s.length.toFixed(1)} s`;
    edit.hidden = false;
    for (const r of [trimStart, trimEnd, coverAt]) r.max = s.length.toFixed(2);
    trimStart.value = 0; trimEnd.value = s.end; coverAt.max = 1; coverAt.value = 0;
    clampTrim();
    ac.resume(); src.play().catch(() => {});
  }

  // ---- 2. editing ----
  const trimStart = h('input', { type: 'range', name: 'trim-start', min: 0, step: 0.1, value: 0 });
  const trimEnd = h('input', { type: 'range', name: 'trim-end', min: 0, step: 0.1, value: 0 });
  const trimLabel = h('span', {});
  function clampTrim() {
    s.start = Number(trimStart.value); s.end = Number(trimEnd.value);
    if (s.end - s.start > s.max) s.end = s.start + s.max;
    if (s.end <= s.start + 0.5) s.end = Math.min(s.length, s.start + 0.5);
    trimEnd.value = s.end;
    trimLabel.textContent = ` ${s.start.toFixed(1)}–${s.end.toFixed(1)} s (${((s.end - s.start) / s.speed).toFixed(1)} s at ${s.speed}×)`;
    if (src.currentTime < s.start || src.currentTime > s.end) { src.currentTime = s.start; syncSound(); }
  }
  trimStart.addEventListener('input', clampTrim);
  trimEnd.addEventListener('input', clampTrim);
  const speed = h('select', { name: 'speed', onchange: () => { s.speed = Number(speed.value); src.playbackRate = s.speed; snd.playbackRate = 1; clampTrim(); syncSound(); } },
    ...[0.5, 1, 1.5, 2].map(v => h('option', { value: v, selected: v === 1 }, v + '×')));
  const effect = h('select', { name: 'effect', onchange: () => { s.effect = effect.value; } }, ...STUDIO_EFFECTS.map(([v, n]) => h('option', { value: v }, n)));
  const text = h('input', { name: 'text', maxlength: 40, placeholder: 'Text on the video', oninput: () => { s.text = text.value.trim(); } });
  const textFrom = h('input', { type: 'number', name: 'text-from', min: 0, step: 0.5, value: 0, oninput: () => { s.textFrom = Number(textFrom.value) || 0; } });
  const textTo = h('input', { type: 'number', name: 'text-to', min: 0, step: 0.5, value: 3, oninput: () => { s.textTo = Number(textTo.value) || 0; } });
  const soundName = h('span', { class: 'studio-sound' }, 'No sound: the original audio only');
  async function useSound(id) {
    try {
      const info = await api('GET', `/v1/sounds/${id}`);
      if (!info.audio_url) { toast('That sound has no audio to mix in'); return; }
      s.sound = info;
      snd.src = info.audio_url;
      soundName.textContent = '♪ ' + info.title;
      soundName.dataset.id = info.id;
      ac.resume(); syncSound();
    } catch (ex) { toast(ex.message); }
  }
  const soundList = h('ul', { class: 'studio-sounds' });
  const showSounds = list => soundList.replaceChildren(...list.map(x => h('li', {},
    h('button', { class: 'secondary', type: 'button', onclick: () => useSound(x.id) }, 'Use'), ' ♪ ' + x.title)));
  api('GET', '/v1/sounds/trending?limit=6').then(t => showSounds(t.sounds)).catch(() => {});
  const soundQuery = h('input', { type: 'search', name: 'sound-search', placeholder: 'Search sounds', maxlength: 64 });
  const soundSearch = h('button', { class: 'secondary', type: 'button', onclick: async () => {
    const q = soundQuery.value.trim();
    if (!q) return;
    try { showSounds((await api('GET', `/v1/search?q=${encodeURIComponent(q)}`)).sounds); } catch (ex) { toast(ex.message); }
  } }, 'Search');
  const offset = h('input', { type: 'range', name: 'sound-offset', min: 0, max: 30, step: 0.5, value: 0, oninput: () => { s.soundOffset = Number(offset.value); syncSound(); } });
  const origVol = h('input', { type: 'range', name: 'original-volume', min: 0, max: 100, value: 100, oninput: () => { origGain.gain.value = origVol.value / 100; } });
  const soundVol = h('input', { type: 'range', name: 'sound-volume', min: 0, max: 100, value: 80, oninput: () => { soundGain.gain.value = soundVol.value / 100; } });
  soundGain.gain.value = 0.8;
  const coverAt = h('input', { type: 'range', name: 'cover', min: 0, max: 1, step: 0.01, value: 0 });
  const caption = h('textarea', { name: 'caption', rows: 2, maxlength: 2200, placeholder: 'Caption with #hashtags' });
  const post = h('button', { class: 'primary', type: 'button', id: 'studio-post', onclick: () => publish() }, 'Post');
  const row = (label, ...kids) => h('label', { class: 'studio-row' }, h('span', {}, label), ...kids);
  const edit = h('div', { class: 'studio-edit', hidden: true },
    row('Trim', trimStart, trimEnd, trimLabel), row('Speed', speed), row('Effect', effect),
    row('Text', text, ' from ', textFrom, ' to ', textTo, ' s'),
    h('div', { class: 'studio-row' }, h('span', {}, 'Sound'), soundName, soundQuery, soundSearch, soundList),
    row('Sound starts at', offset), row('Original volume', origVol), row('Sound volume', soundVol),
    row('Cover frame', coverAt), caption, post);

  // ---- 3. the result ----
  function effectsUsed() {
    const e = [];
    if (s.effect) e.push(s.effect);
    if (s.text) e.push('text');
    if (s.speed < 1) e.push('slow_motion');
    if (s.speed > 1) e.push('fast_motion');
    return e;
  }
  async function render() {
    s.rendering = true;
    src.pause(); snd.pause();
    // The cover: the chosen frame of the trimmed part, as the creator sees it.
    await studioSeek(src, s.start + Number(coverAt.value) * (s.end - s.start));
    draw();
    const poster = await new Promise(r => canvas.toBlob(r, 'image/png'));
    await studioSeek(src, s.start);
    if (s.sound) await studioSeek(snd, s.soundOffset);
    draw();
    const video = canvas.captureStream(30);
    const rec = new MediaRecorder(new MediaStream([...video.getVideoTracks(), ...mix.stream.getAudioTracks()]), { mimeType: 'video/webm;codecs=vp8,opus' });
    const chunks = [];
    rec.ondataavailable = e => { if (e.data.size) chunks.push(e.data); };
    const stopped = studioWait(rec, 'stop');
    await ac.resume();
    rec.start(250);
    src.playbackRate = s.speed;
    await src.play();
    if (s.sound) snd.play().catch(() => {});
    await new Promise(r => { const check = () => (src.currentTime >= s.end || src.ended) ? r() : requestAnimationFrame(check); check(); });
    rec.stop(); src.pause(); snd.pause();
    await stopped;
    video.getTracks().forEach(t => t.stop());
    s.rendering = false;
    return { clip: new Blob(chunks, { type: 'video/webm' }), poster };
  }
  async function publish() {
    if (post.disabled || !s.take) return;
    err.textContent = '';
    post.disabled = true;
    post.textContent = 'Rendering…';
    try {
      const { clip, poster } = await render();
      post.textContent = 'Posting…';
      const fd = new FormData();
      fd.append('file', clip, 'studio.webm');
      fd.append('caption', caption.value);
      if (s.sound) fd.append('sound_id', s.sound.id);
      fd.append('effects', effectsUsed().join(','));
      if (poster) fd.append('poster', poster, 'cover.png');
      const res = await fetch('/v1/videos', { method: 'POST', headers: { 'X-CSRF-Token': csrf() }, body: fd });
      const data = await res.json().catch(() => null);
      if (res.status !== 201) throw new Error(humanError(data, res.status));
      toast('Posted!');
      feeds.clear();
      location.hash = `#/v/${data.id}`;
    } catch (ex) {
      err.textContent = ex.message;
      post.disabled = false;
      post.textContent = 'Post';
    }
  }

  view.replaceChildren(h('div', { class: 'page studio' }, h('h1', {}, 'Create'),
    h('div', { class: 'studio-source' }, camBtn, recBtn, ' or ', file, ' · limit ', maxSel),
    h('div', { class: 'studio-stage' }, canvas), status, err, edit, src));
  requestAnimationFrame(tick);
}
